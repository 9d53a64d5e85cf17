package temporalconn_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"ces/internal/temporalconn"
	"ces/internal/testenv"
)

// pki is a certificate authority made for one test, with what it signed.
type pki struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *pki {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, IsCA: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &pki{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue signs a leaf for the server name temporal.test (and 127.0.0.1) or
// for a client, and returns it as a tls.Certificate and as PEM files.
func (ca *pki) issue(t *testing.T, client bool, dir, name string) (tls.Certificate, string, string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, DNSNames: []string{"temporal.test"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	if client {
		tmpl.ExtKeyUsage, tmpl.DNSNames, tmpl.IPAddresses = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil, nil
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	write(t, certFile, certPEM)
	write(t, keyFile, keyPEM)
	return pair, certFile, keyFile
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// tlsProxy terminates TLS with cfg on a local port and forwards the
// stream to the plaintext Temporal dev server at target, as a TLS
// load balancer in front of a Temporal cluster does.
func tlsProxy(t *testing.T, target string, cfg *tls.Config) string {
	t.Helper()
	cfg.NextProtos = []string{"h2"} // gRPC
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if err := c.(*tls.Conn).Handshake(); err != nil {
					return // refused: no or a foreign client certificate
				}
				u, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer u.Close()
				go io.Copy(u, c)
				io.Copy(c, u)
			}()
		}
	}()
	return l.Addr().String()
}

func TestOptions(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "ces test CA")
	write(t, filepath.Join(dir, "ca.pem"), ca.pem)
	_, certFile, keyFile := ca.issue(t, true, dir, "worker")
	profiles := filepath.Join(dir, "temporal.toml")
	write(t, profiles, []byte(`[profile.cloud]
address = "ces.a1b2c.tmprl.cloud:7233"
namespace = "ces.a1b2c"
[profile.cloud.tls]
client_cert_path = "`+certFile+`"
client_key_path = "`+keyFile+`"
`))
	tests := []struct {
		name      string
		env       map[string]string
		describe  string
		serverFor string
		wantErr   string
	}{
		{"defaults", map[string]string{}, "127.0.0.1:7233, namespace default, plaintext", "", ""},
		{"address and namespace", map[string]string{"TEMPORAL_ADDRESS": "temporal:7233", "TEMPORAL_NAMESPACE": "ces"}, "temporal:7233, namespace ces, plaintext", "", ""},
		{"TLS with a CA and a server name", map[string]string{"TEMPORAL_TLS": "true", "TEMPORAL_TLS_SERVER_CA_CERT_PATH": filepath.Join(dir, "ca.pem"), "TEMPORAL_TLS_SERVER_NAME": "temporal.test"},
			"127.0.0.1:7233, namespace default, TLS", "temporal.test", ""},
		{"mutual TLS", map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": certFile, "TEMPORAL_TLS_CLIENT_KEY_PATH": keyFile},
			"127.0.0.1:7233, namespace default, mutual TLS", "", ""},
		{"Temporal Cloud API key", map[string]string{"TEMPORAL_ADDRESS": "eu-west-1.aws.api.temporal.io:7233", "TEMPORAL_NAMESPACE": "ces.a1b2c", "TEMPORAL_API_KEY": "secret-api-key-1"},
			"eu-west-1.aws.api.temporal.io:7233, namespace ces.a1b2c, TLS with an API key", "", ""},
		{"a temporal CLI profile", map[string]string{"TEMPORAL_CONFIG_FILE": profiles, "TEMPORAL_PROFILE": "cloud"},
			"ces.a1b2c.tmprl.cloud:7233, namespace ces.a1b2c, mutual TLS", "", ""},
		{"variables over the profile", map[string]string{"TEMPORAL_CONFIG_FILE": profiles, "TEMPORAL_PROFILE": "cloud", "TEMPORAL_NAMESPACE": "ces.staging"},
			"ces.a1b2c.tmprl.cloud:7233, namespace ces.staging, mutual TLS", "", ""},
		{"TLS turned off", map[string]string{"TEMPORAL_TLS": "false", "TEMPORAL_API_KEY": "secret-api-key-2"}, "127.0.0.1:7233, namespace default, plaintext with an API key", "", ""},
		{"certificate without its key", map[string]string{"TEMPORAL_TLS_CLIENT_CERT_PATH": certFile, "TEMPORAL_API_KEY": "secret-api-key-3"}, "", "", "client cert or key path"},
		{"unreadable CA", map[string]string{"TEMPORAL_TLS_SERVER_CA_CERT_PATH": filepath.Join(dir, "missing.pem"), "TEMPORAL_API_KEY": "secret-api-key-4"}, "", "", "server CA"},
		{"unknown profile", map[string]string{"TEMPORAL_CONFIG_FILE": profiles, "TEMPORAL_PROFILE": "prod"}, "", "", "profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts, err := temporalconn.Options(tt.env, "127.0.0.1:7233", "default")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tt.wantErr)
				}
				if key := tt.env["TEMPORAL_API_KEY"]; key != "" && strings.Contains(err.Error(), key) {
					t.Fatalf("the error quotes the API key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := temporalconn.Describe(opts); got != tt.describe {
				t.Fatalf("Describe = %q, want %q", got, tt.describe)
			}
			if tt.serverFor != "" && opts.ConnectionOptions.TLS.ServerName != tt.serverFor {
				t.Fatalf("server name %q", opts.ConnectionOptions.TLS.ServerName)
			}
			if strings.Contains(temporalconn.Describe(opts), "secret") {
				t.Fatal("Describe quotes the API key")
			}
		})
	}
}

func echo(_ workflow.Context, s string) (string, error) { return "echo " + s, nil }

// TestTLSAndMutualTLSForReal: the Temporal dev server behind a TLS and a
// mutual-TLS proxy with certificates made here. A worker configured by the
// TEMPORAL_* variables runs a workflow through each; without the right
// CA, without a client certificate, or with one from another authority,
// it is refused.
func TestTLSAndMutualTLSForReal(t *testing.T) {
	target := testenv.TemporalAddress(t)
	dir := t.TempDir()
	ca, rogue := newCA(t, "ces test CA"), newCA(t, "someone else's CA")
	caFile, rogueCAFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "rogue-ca.pem")
	write(t, caFile, ca.pem)
	write(t, rogueCAFile, rogue.pem)
	serverCert, _, _ := ca.issue(t, false, dir, "server")
	_, certFile, keyFile := ca.issue(t, true, dir, "worker")
	_, rogueCert, rogueKey := rogue.issue(t, true, dir, "intruder")
	clients := x509.NewCertPool()
	clients.AddCert(ca.cert)
	tlsAddr := tlsProxy(t, target, &tls.Config{Certificates: []tls.Certificate{serverCert}})
	mtlsAddr := tlsProxy(t, target, &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clients})

	env := func(addr string, kv ...string) map[string]string {
		m := map[string]string{"TEMPORAL_ADDRESS": addr, "TEMPORAL_NAMESPACE": "default", "TEMPORAL_TLS": "true",
			"TEMPORAL_TLS_SERVER_CA_CERT_PATH": caFile, "TEMPORAL_TLS_SERVER_NAME": "temporal.test"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	dial := func(t *testing.T, env map[string]string) (client.Client, error) {
		t.Helper()
		opts, err := temporalconn.Options(env, "", "")
		if err != nil {
			t.Fatal(err)
		}
		opts.Logger = quiet{}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return client.DialContext(ctx, opts)
	}
	t.Run("accepted", func(t *testing.T) {
		for name, e := range map[string]map[string]string{
			"TLS":        env(tlsAddr),
			"mutual TLS": env(mtlsAddr, "TEMPORAL_TLS_CLIENT_CERT_PATH", certFile, "TEMPORAL_TLS_CLIENT_KEY_PATH", keyFile),
		} {
			t.Run(name, func(t *testing.T) {
				c, err := dial(t, e)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				queue := testenv.TaskQueue(t)
				w := worker.New(c, queue, worker.Options{})
				w.RegisterWorkflow(echo)
				if err := w.Start(); err != nil {
					t.Fatal(err)
				}
				defer w.Stop()
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: queue}, echo, name)
				if err != nil {
					t.Fatal(err)
				}
				var got string
				if err := run.Get(ctx, &got); err != nil || got != "echo "+name {
					t.Fatalf("workflow through %s: %q, %v", name, got, err)
				}
			})
		}
	})
	t.Run("refused", func(t *testing.T) {
		for name, e := range map[string]map[string]string{
			"plaintext to TLS":          {"TEMPORAL_ADDRESS": tlsAddr},
			"a CA that did not sign it": env(tlsAddr, "TEMPORAL_TLS_SERVER_CA_CERT_PATH", rogueCAFile),
			"the wrong server name":     env(tlsAddr, "TEMPORAL_TLS_SERVER_NAME", "other.test"),
			"no client certificate":     env(mtlsAddr),
			"another CA's client":       env(mtlsAddr, "TEMPORAL_TLS_CLIENT_CERT_PATH", rogueCert, "TEMPORAL_TLS_CLIENT_KEY_PATH", rogueKey),
		} {
			t.Run(name, func(t *testing.T) {
				c, err := dial(t, e)
				if err == nil {
					c.Close()
					t.Fatal("connected")
				}
				t.Logf("refused: %v", err)
			})
		}
	})
}

type quiet struct{}

func (quiet) Debug(string, ...any) {}
func (quiet) Info(string, ...any)  {}
func (quiet) Warn(string, ...any)  {}
func (quiet) Error(string, ...any) {}
