package config

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/caarlos0/env/v11"
)

// Logins are the passwords starter migrate gives the API's and the
// worker's database logins, and optionally their names. Only that command
// reads them, so they are kept out of Config (and out of the API's and
// worker's environment).
type Logins struct {
	APIPassword    string `env:"CES_API_DB_PASSWORD"`
	WorkerPassword string `env:"CES_WORKER_DB_PASSWORD"`
	// APILogin and WorkerLogin name the logins. Empty: ces_api_<database>
	// and ces_worker_<database>, after the database DATABASE_URL names
	// (store.DatabaseLogins), so that CES databases sharing a PostgreSQL
	// server never share a login. An install from before logins were per
	// database keeps its ces_api and ces_worker by naming them here.
	APILogin    string `env:"CES_API_DB_LOGIN"`
	WorkerLogin string `env:"CES_WORKER_DB_LOGIN"`
}

// Set reports whether logins should be created: both passwords given.
func (l Logins) Set() bool { return l.APIPassword != "" && l.WorkerPassword != "" }

// loginName is what a login may be called: a PostgreSQL name that needs
// no quoting anywhere (URLs, psql, pg_hba.conf), at most 63 bytes.
var loginName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// LoadLogins reads the login passwords, both or neither (the logins are
// then left to the operator), and the logins' names when given.
func LoadLogins() (Logins, error) {
	var l Logins
	if err := env.Parse(&l); err != nil {
		return Logins{}, describe(err)
	}
	return l, l.validate()
}

func (l Logins) validate() error {
	if (l.APIPassword == "") != (l.WorkerPassword == "") {
		return errors.New("config: CES_API_DB_PASSWORD and CES_WORKER_DB_PASSWORD are malformed: set both, or neither")
	}
	for _, n := range []struct{ key, val string }{{"CES_API_DB_LOGIN", l.APILogin}, {"CES_WORKER_DB_LOGIN", l.WorkerLogin}} {
		if n.val != "" && !loginName.MatchString(n.val) {
			return fmt.Errorf("config: %s is malformed: want lower-case letters, digits and underscores, at most 63, not starting with a digit", n.key)
		}
	}
	if l.APILogin != "" && l.APILogin == l.WorkerLogin {
		return errors.New("config: CES_API_DB_LOGIN and CES_WORKER_DB_LOGIN are malformed: the API and the worker need logins of their own")
	}
	return nil
}
