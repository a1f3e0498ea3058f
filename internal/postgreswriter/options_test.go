package postgreswriter

import (
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestUnitOptionsFromEnvironment(t *testing.T) {
	env := envOf(map[string]string{
		EnvHost: "db.example", EnvPort: "6543", EnvDBName: "school",
		EnvUser: "writer", EnvPassword: "s3cr:et@/x", EnvSSLMode: "disable",
	})
	cfg, err := Options{}.poolConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.ConnConfig
	if c.Host != "db.example" || c.Port != 6543 || c.Database != "school" || c.User != "writer" || c.Password != "s3cr:et@/x" {
		t.Fatalf("config from env: host=%s port=%d db=%s user=%s password-matches=%v",
			c.Host, c.Port, c.Database, c.User, c.Password == "s3cr:et@/x")
	}
	if c.TLSConfig != nil {
		t.Errorf("sslmode=disable from env not applied")
	}

	// Options (flags) win over the environment.
	cfg, err = Options{Host: "flag.example", Port: 7000, User: "flaguser"}.poolConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.ConnConfig; c.Host != "flag.example" || c.Port != 7000 || c.User != "flaguser" || c.Database != "school" {
		t.Fatalf("flags over env: host=%s port=%d user=%s db=%s", c.Host, c.Port, c.User, c.Database)
	}

	// A DSN replaces the individual settings.
	cfg, err = Options{DSN: "postgres://dsnuser@dsn.example:5433/dsndb?sslmode=disable"}.poolConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.ConnConfig; c.Host != "dsn.example" || c.Port != 5433 || c.User != "dsnuser" || c.Database != "dsndb" {
		t.Fatalf("dsn: host=%s port=%d user=%s db=%s", c.Host, c.Port, c.User, c.Database)
	}

	if _, err := (Options{}).poolConfig(envOf(map[string]string{EnvPort: "nope"})); err == nil {
		t.Errorf("a bad %s was accepted", EnvPort)
	}
}

func TestUnitPasswordNeverShown(t *testing.T) {
	const secret = "hunter2-very-secret"
	env := envOf(map[string]string{EnvPassword: secret, EnvHost: "127.0.0.1"})
	cfg, err := Options{}.poolConfig(env)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(describe(cfg)...); strings.Contains(got, secret) {
		t.Errorf("describe shows the password: %s", got)
	}

	// Not in the flags' help either, even when given.
	o := Options{}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	o.BindFlags(fs)
	if err := fs.Parse([]string{"--postgres-password=" + secret, "--postgres-host=h"}); err != nil {
		t.Fatal(err)
	}
	if o.Password != secret || o.Host != "h" {
		t.Fatalf("flags not bound: host=%q", o.Host)
	}
	if usage := fs.FlagUsages(); strings.Contains(usage, secret) {
		t.Errorf("flag usage shows the password:\n%s", usage)
	}

	// Nor in connection-string errors.
	_, err = Options{Password: secret, Host: "127.0.0.1", SSLMode: "bogus"}.poolConfig(envOf(nil))
	if err == nil {
		t.Fatal("bogus sslmode accepted")
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error shows the password: %v", err)
	}
}
