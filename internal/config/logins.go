package config

import (
	"errors"

	"github.com/caarlos0/env/v11"
)

// Logins are the passwords starter migrate gives the API's and the
// worker's database logins. Only that command reads them, so they are
// kept out of Config (and out of the API's and worker's environment).
type Logins struct {
	APIPassword    string `env:"CES_API_DB_PASSWORD"`
	WorkerPassword string `env:"CES_WORKER_DB_PASSWORD"`
}

// Set reports whether logins should be created: both passwords given.
func (l Logins) Set() bool { return l.APIPassword != "" && l.WorkerPassword != "" }

// LoadLogins reads the login passwords: both, or neither (the logins are
// then left to the operator).
func LoadLogins() (Logins, error) {
	var l Logins
	if err := env.Parse(&l); err != nil {
		return Logins{}, describe(err)
	}
	if (l.APIPassword == "") != (l.WorkerPassword == "") {
		return Logins{}, errors.New("config: CES_API_DB_PASSWORD and CES_WORKER_DB_PASSWORD are malformed: set both, or neither")
	}
	return l, nil
}
