package postgreswriter

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/pflag"
)

// Environment variables read for settings not given as flags (or Options fields).
const (
	EnvHost     = "PSQL_HOST"
	EnvPort     = "PSQL_PORT"
	EnvDBName   = "PSQL_DBNAME"
	EnvUser     = "PSQL_USER"
	EnvPassword = "PSQL_PASSWORD"
	EnvDSN      = "PSQL_DSN"
	EnvSSLMode  = "PSQL_SSLMODE"
)

// Defaults of the connection settings.
const (
	DefaultHost    = "localhost"
	DefaultPort    = 5432
	DefaultDBName  = "postgres"
	DefaultUser    = "postgres"
	DefaultSSLMode = "prefer"
)

// Options configures the PostgresWriter operator. The zero value is usable: every
// empty connection setting is taken from its environment variable (PSQL_*), then
// from the defaults above. A DSN, when given, replaces the individual settings.
type Options struct {
	// DSN is a libpq connection string or URL (env PSQL_DSN). When set, Host,
	// Port, DBName, User, Password and SSLMode are ignored.
	DSN string
	// Host is the server's host name or address (env PSQL_HOST).
	Host string
	// Port is the server's port (env PSQL_PORT).
	Port int
	// DBName is the database (env PSQL_DBNAME).
	DBName string
	// User is the role to log in as (env PSQL_USER).
	User string
	// Password is the role's password (env PSQL_PASSWORD). Prefer the
	// environment over the flag: command lines are visible to other users.
	Password string
	// SSLMode is libpq's sslmode: disable, prefer, require, verify-ca, verify-full
	// (env PSQL_SSLMODE).
	SSLMode string

	// SkipTableCreation leaves missing tables missing: writes to them fail with
	// reason TableMissing until someone creates them.
	SkipTableCreation bool

	// MaxConns bounds the connection pool (default 4).
	MaxConns int32
	// ConnectTimeout bounds one connection attempt (default 5s).
	ConnectTimeout time.Duration
	// OperationTimeout bounds the SQL work of one reconciliation (default 30s).
	OperationTimeout time.Duration
	// MaxRetryDelay caps the exponential backoff between retries when the
	// database fails (default 30s).
	MaxRetryDelay time.Duration
	// MaxConcurrentReconciles is the number of resources reconciled in parallel
	// (default 1).
	MaxConcurrentReconciles int
}

// BindFlags registers the options as flags. Flags left unset fall back to the
// PSQL_* environment variables; the password is never printed as a default.
func (o *Options) BindFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.DSN, "postgres-dsn", o.DSN, "PostgreSQL connection string or URL for the PostgresWriter operator (env "+EnvDSN+"); replaces the other --postgres-* connection flags")
	fs.StringVar(&o.Host, "postgres-host", o.Host, "PostgreSQL host (env "+EnvHost+", default "+DefaultHost+")")
	fs.IntVar(&o.Port, "postgres-port", o.Port, "PostgreSQL port (env "+EnvPort+", default "+strconv.Itoa(DefaultPort)+")")
	fs.StringVar(&o.DBName, "postgres-dbname", o.DBName, "PostgreSQL database (env "+EnvDBName+", default "+DefaultDBName+")")
	fs.StringVar(&o.User, "postgres-user", o.User, "PostgreSQL user (env "+EnvUser+", default "+DefaultUser+")")
	fs.StringVar(&o.Password, "postgres-password", "", "PostgreSQL password; prefer env "+EnvPassword)
	fs.StringVar(&o.SSLMode, "postgres-sslmode", o.SSLMode, "PostgreSQL sslmode (env "+EnvSSLMode+", default "+DefaultSSLMode+")")
	fs.BoolVar(&o.SkipTableCreation, "postgres-skip-table-creation", o.SkipTableCreation, "do not create missing tables for PostgresWriter resources")
	fs.Int32Var(&o.MaxConns, "postgres-max-conns", o.MaxConns, "size of the PostgresWriter connection pool (default 4)")
}

// resolved returns the options with environment values and defaults filled in.
func (o Options) resolved(getenv func(string) string) (Options, error) {
	pick := func(v *string, env, def string) {
		if *v == "" {
			*v = getenv(env)
		}
		if *v == "" {
			*v = def
		}
	}
	pick(&o.DSN, EnvDSN, "")
	pick(&o.Host, EnvHost, DefaultHost)
	pick(&o.DBName, EnvDBName, DefaultDBName)
	pick(&o.User, EnvUser, DefaultUser)
	pick(&o.Password, EnvPassword, "")
	pick(&o.SSLMode, EnvSSLMode, DefaultSSLMode)
	if o.Port == 0 {
		if v := strings.TrimSpace(getenv(EnvPort)); v != "" {
			p, err := strconv.Atoi(v)
			if err != nil {
				return o, fmt.Errorf("parsing %s=%q: %w", EnvPort, v, err)
			}
			o.Port = p
		} else {
			o.Port = DefaultPort
		}
	}
	if o.Port <= 0 || o.Port > 65535 {
		return o, fmt.Errorf("PostgreSQL port %d out of range", o.Port)
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 4
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 5 * time.Second
	}
	if o.OperationTimeout <= 0 {
		o.OperationTimeout = 30 * time.Second
	}
	if o.MaxRetryDelay <= 0 {
		o.MaxRetryDelay = 30 * time.Second
	}
	if o.MaxConcurrentReconciles <= 0 {
		o.MaxConcurrentReconciles = 1
	}
	return o, nil
}

// connString builds the connection string of resolved options.
func (o Options) connString() string {
	if o.DSN != "" {
		return o.DSN
	}
	u := url.URL{
		Scheme:   "postgres",
		Host:     net.JoinHostPort(o.Host, strconv.Itoa(o.Port)),
		Path:     "/" + o.DBName,
		RawQuery: url.Values{"sslmode": []string{o.SSLMode}}.Encode(),
	}
	if o.Password != "" {
		u.User = url.UserPassword(o.User, o.Password)
	} else {
		u.User = url.User(o.User)
	}
	return u.String()
}

// PoolConfig returns the connection pool configuration the options describe,
// reading the PSQL_* environment for settings left empty.
func (o Options) PoolConfig() (*pgxpool.Config, error) {
	return o.poolConfig(os.Getenv)
}

func (o Options) poolConfig(getenv func(string) string) (*pgxpool.Config, error) {
	r, err := o.resolved(getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(r.connString())
	if err != nil {
		// pgx redacts passwords in its errors; scrub ours anyway in case a
		// lower layer quoted the connection string.
		return nil, fmt.Errorf("parsing PostgreSQL connection settings: %w", redact(err, r.Password))
	}
	cfg.MaxConns = r.MaxConns
	cfg.ConnConfig.ConnectTimeout = r.ConnectTimeout
	return cfg, nil
}

// describe is a loggable summary of a pool configuration: no password.
func describe(cfg *pgxpool.Config) []any {
	return []any{
		"host", cfg.ConnConfig.Host,
		"port", cfg.ConnConfig.Port,
		"database", cfg.ConnConfig.Database,
		"user", cfg.ConnConfig.User,
		"maxConns", cfg.MaxConns,
	}
}

// redact returns err with every spelling of secret (raw, path- or
// query-escaped) removed from its text. The chain is dropped: the inner errors
// would still carry the secret.
func redact(err error, secret string) error {
	if err == nil || secret == "" {
		return err
	}
	msg := err.Error()
	for _, s := range []string{secret, url.PathEscape(secret), url.QueryEscape(secret)} {
		msg = strings.ReplaceAll(msg, s, "xxxxx")
	}
	if msg == err.Error() {
		return err
	}
	return errors.New(msg)
}
