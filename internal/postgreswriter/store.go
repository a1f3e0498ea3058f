package postgreswriter

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Row is what a PostgresWriter keeps in its table.
type Row struct {
	ID      string
	Name    string
	Age     int32
	Country string
}

// RowStore writes and deletes rows. *Store is the PostgreSQL implementation.
type RowStore interface {
	// Upsert makes the row with r.ID in table hold r.
	Upsert(ctx context.Context, table TableName, r Row) error
	// Delete removes the row with id from table; a missing row or table is fine.
	Delete(ctx context.Context, table TableName, id string) error
}

// Store is a RowStore over one pgx connection pool. Every statement takes its
// values as parameters; table names reach SQL text only as validated, quoted
// identifiers.
type Store struct {
	pool        *pgxpool.Pool
	createTable bool
}

// NewStore opens a pool (lazily: no connection is made until first use, so a
// database that is down at start-up is not an error). createTable makes Upsert
// create a missing table.
func NewStore(cfg *pgxpool.Config, createTable bool) (*Store, error) {
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("creating PostgreSQL connection pool: %w", err)
	}
	return &Store{pool: pool, createTable: createTable}, nil
}

// Close closes the pool, waiting for connections in use to be released.
func (s *Store) Close() { s.pool.Close() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("pinging PostgreSQL: %w", err)
	}
	return nil
}

// Upsert inserts the row or, when its id exists, updates it. A missing table is
// created first unless the store was made without createTable.
func (s *Store) Upsert(ctx context.Context, table TableName, r Row) error {
	if table.IsZero() {
		return errors.New("upsert: no table")
	}
	q := "INSERT INTO " + table.Sanitize() + " (id, name, age, country) VALUES ($1, $2, $3, $4) " +
		"ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, age = EXCLUDED.age, country = EXCLUDED.country"
	_, err := s.pool.Exec(ctx, q, r.ID, r.Name, r.Age, r.Country)
	if err != nil && s.createTable && isUndefinedTable(err) {
		if err := s.CreateTable(ctx, table); err != nil {
			return err
		}
		_, err = s.pool.Exec(ctx, q, r.ID, r.Name, r.Age, r.Country)
	}
	if err != nil {
		return fmt.Errorf("upserting row %q into %s: %w", r.ID, table, err)
	}
	return nil
}

// CreateTable creates table with the PostgresWriter columns if it does not exist.
func (s *Store) CreateTable(ctx context.Context, table TableName) error {
	if table.IsZero() {
		return errors.New("create table: no table")
	}
	q := "CREATE TABLE IF NOT EXISTS " + table.Sanitize() +
		" (id text PRIMARY KEY, name text, age integer, country text)"
	if _, err := s.pool.Exec(ctx, q); err != nil {
		return fmt.Errorf("creating table %s: %w", table, err)
	}
	return nil
}

// Delete removes the row with id from table. A row or table already gone is fine.
func (s *Store) Delete(ctx context.Context, table TableName, id string) error {
	if table.IsZero() {
		return errors.New("delete: no table")
	}
	_, err := s.pool.Exec(ctx, "DELETE FROM "+table.Sanitize()+" WHERE id = $1", id)
	if err != nil && !isUndefinedTable(err) {
		return fmt.Errorf("deleting row %q from %s: %w", id, table, err)
	}
	return nil
}

// SQLSTATE codes the operator tells apart.
const (
	sqlstateUndefinedTable    = "42P01"
	sqlstateInvalidSchemaName = "3F000"
)

func isUndefinedTable(err error) bool { return hasSQLState(err, sqlstateUndefinedTable) }

// hasSQLState tells whether the server answered err with the SQLSTATE code.
func hasSQLState(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}

// isUnavailable tells whether err means the database could not be reached or
// went away, as opposed to the server refusing a statement.
func isUnavailable(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		// Dial errors, broken connections, timeouts: nothing the server said.
		return true
	}
	if len(pgErr.Code) < 2 {
		return false
	}
	switch pgErr.Code[:2] {
	case "08", // connection exception
		"53", // insufficient resources (too many connections, disk full)
		"57": // operator intervention (shutdown, cannot connect now)
		return true
	}
	return false
}
