package postgreswriter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	"github.com/tugboat-dev/tugboat/api"
	demov1 "github.com/tugboat-dev/tugboat/api/demo/v1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
)

// Generous deadlines: the tests poll for outcomes, they never time them.
const (
	waitFor  = 90 * time.Second
	pollStep = 100 * time.Millisecond
)

// countingStore counts the statements a reconciler asks for.
type countingStore struct {
	RowStore
	calls atomic.Int64
}

func (c *countingStore) Upsert(ctx context.Context, t TableName, r Row) error {
	c.calls.Add(1)
	return c.RowStore.Upsert(ctx, t, r)
}

func (c *countingStore) Delete(ctx context.Context, t TableName, id string) error {
	c.calls.Add(1)
	return c.RowStore.Delete(ctx, t, id)
}

// fixture is one test's operator (own manager, watching one namespace), an API
// client and a direct database connection for checking rows.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	ns     string
	c      client.Client
	db     *pgxpool.Pool
	counts *countingStore // nil when the operator runs through SetupWithManager
}

type fixtureOptions struct {
	namespace         string // default: a fresh one
	viaSetup          bool   // run the operator through the package's SetupWithManager
	skipTableCreation bool
}

func newFixture(t *testing.T, o fixtureOptions) *fixture {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cfg := env.Management().Config
	scheme := api.NewScheme()
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, c: c, ns: o.namespace}
	if f.ns == "" {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "pgw-"}}
		if err := c.Create(ctx, ns); err != nil {
			t.Fatal(err)
		}
		f.ns = ns.Name
	}

	db, err := pgxpool.New(ctx, pg.dsn())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	f.db = db

	logs := &logBuffer{}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Logger:                 logs.logger(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cache.Options{DefaultNamespaces: map[string]cache.Config{f.ns: {}}},
		// Every test runs its own controller of the same name.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{
		DSN:               pg.dsn(),
		SkipTableCreation: o.skipTableCreation,
		ConnectTimeout:    2 * time.Second,
		MaxRetryDelay:     time.Second,
	}
	if o.viaSetup {
		if err := SetupWithManager(ctx, mgr, opts); err != nil {
			t.Fatal(err)
		}
	} else {
		poolCfg, err := opts.PoolConfig()
		if err != nil {
			t.Fatal(err)
		}
		store, err := NewStore(poolCfg, !o.skipTableCreation)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(store.Close)
		f.counts = &countingStore{RowStore: store}
		r := &Reconciler{Client: mgr.GetClient(), Store: f.counts, MaxRetryDelay: time.Second}
		if err := r.SetupWithManager(mgr); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
		if t.Failed() {
			t.Logf("operator log:\n%s", logs.String())
		}
	})
	return f
}

// logBuffer collects the operator's log, shown when a test fails.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		l.mu.Lock()
		defer l.mu.Unlock()
		fmt.Fprintf(&l.b, "%s %s %s\n", time.Now().Format("15:04:05.000"), prefix, args)
	}, funcr.Options{Verbosity: 1})
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// eventually polls cond until it holds, failing the test with cond's last
// explanation when the deadline passes.
func (f *fixture) eventually(what string, cond func() (bool, string)) {
	f.t.Helper()
	deadline := time.Now().Add(waitFor)
	last := ""
	for {
		ok, why := cond()
		if ok {
			return
		}
		last = why
		if time.Now().After(deadline) {
			f.t.Fatalf("timed out waiting for %s: %s", what, last)
		}
		time.Sleep(pollStep)
	}
}

func (f *fixture) writer(name, table, person string, age int32, country string) *demov1.PostgresWriter {
	return &demov1.PostgresWriter{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: name},
		Spec:       demov1.PostgresWriterSpec{Table: table, Name: person, Age: age, Country: country},
	}
}

func (f *fixture) create(pw *demov1.PostgresWriter) {
	f.t.Helper()
	if err := f.c.Create(f.ctx, pw); err != nil {
		f.t.Fatalf("creating PostgresWriter %s: %v", pw.Name, err)
	}
}

func (f *fixture) get(name string) (*demov1.PostgresWriter, error) {
	pw := &demov1.PostgresWriter{}
	err := f.c.Get(f.ctx, client.ObjectKey{Namespace: f.ns, Name: name}, pw)
	return pw, err
}

// edit changes a resource's spec, retrying on conflicts.
func (f *fixture) edit(name string, change func(*demov1.PostgresWriterSpec)) int64 {
	f.t.Helper()
	var gen int64
	f.eventually("an edit of "+name, func() (bool, string) {
		pw, err := f.get(name)
		if err != nil {
			return false, err.Error()
		}
		change(&pw.Spec)
		if err := f.c.Update(f.ctx, pw); err != nil {
			if apierrors.IsConflict(err) {
				return false, err.Error()
			}
			f.t.Fatalf("updating %s: %v", name, err)
		}
		gen = pw.Generation
		return true, ""
	})
	return gen
}

func (f *fixture) delete(name string) {
	f.t.Helper()
	pw := &demov1.PostgresWriter{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: name}}
	if err := f.c.Delete(f.ctx, pw); err != nil {
		f.t.Fatalf("deleting %s: %v", name, err)
	}
}

// waitReady waits for the Ready condition of name to have reason (and status)
// for generation gen (0: the current one), returning the resource.
func (f *fixture) waitReady(name string, status metav1.ConditionStatus, reason string, gen int64) *demov1.PostgresWriter {
	f.t.Helper()
	var out *demov1.PostgresWriter
	f.eventually(fmt.Sprintf("%s to be Ready=%s/%s", name, status, reason), func() (bool, string) {
		pw, err := f.get(name)
		if err != nil {
			return false, err.Error()
		}
		want := gen
		if want == 0 {
			want = pw.Generation
		}
		c := meta.FindStatusCondition(pw.Status.Conditions, conditions.Ready)
		switch {
		case c == nil:
			return false, "no Ready condition"
		case pw.Status.ObservedGeneration != want || c.ObservedGeneration != want:
			return false, fmt.Sprintf("observed generation %d (condition %d), want %d", pw.Status.ObservedGeneration, c.ObservedGeneration, want)
		case c.Status != status || c.Reason != reason:
			return false, fmt.Sprintf("Ready=%s reason %s: %s", c.Status, c.Reason, c.Message)
		}
		out = pw
		return true, ""
	})
	return out
}

func (f *fixture) waitGone(name string) {
	f.t.Helper()
	f.eventually(name+" to disappear", func() (bool, string) {
		pw, err := f.get(name)
		if apierrors.IsNotFound(err) {
			return true, ""
		}
		if err != nil {
			return false, err.Error()
		}
		return false, fmt.Sprintf("still there, finalizers %v, deletion %v", pw.Finalizers, pw.DeletionTimestamp)
	})
}

// row reads a row straight from the database; err is set when the database
// could not answer (it may be down on purpose).
func (f *fixture) row(table, id string) (Row, bool, error) {
	f.t.Helper()
	tn, err := ParseTableName(table)
	if err != nil {
		f.t.Fatal(err)
	}
	r := Row{ID: id}
	err = f.db.QueryRow(f.ctx, "SELECT name, age, country FROM "+tn.Sanitize()+" WHERE id = $1", id).Scan(&r.Name, &r.Age, &r.Country)
	switch {
	case errors.Is(err, pgx.ErrNoRows), isUndefinedTable(err):
		return Row{}, false, nil
	case err != nil && isUnavailable(err):
		return Row{}, false, err
	case err != nil:
		f.t.Fatalf("reading row %q of %s: %v", id, table, err)
	}
	return r, true, nil
}

func (f *fixture) waitRow(table string, want Row) {
	f.t.Helper()
	f.eventually(fmt.Sprintf("row %+v in %s", want, table), func() (bool, string) {
		got, ok, err := f.row(table, want.ID)
		switch {
		case err != nil:
			return false, err.Error()
		case !ok:
			return false, "no row"
		}
		return got == want, fmt.Sprintf("row is %+v", got)
	})
}

func (f *fixture) waitNoRow(table, id string) {
	f.t.Helper()
	f.eventually(fmt.Sprintf("row %q gone from %s", id, table), func() (bool, string) {
		got, ok, err := f.row(table, id)
		if err != nil {
			return false, err.Error()
		}
		return !ok, fmt.Sprintf("row is %+v", got)
	})
}

func (f *fixture) tableExists(name string) bool {
	f.t.Helper()
	var n int
	if err := f.db.QueryRow(f.ctx, "SELECT count(*) FROM pg_catalog.pg_tables WHERE tablename = $1", name).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n > 0
}

func (f *fixture) exec(sql string) {
	f.t.Helper()
	if _, err := f.db.Exec(f.ctx, sql); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
}

// uniqueTable is a table name nobody else in this run uses.
func uniqueTable(prefix string) string {
	return fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())
}

// TestSampleStudent applies the tutorial's sample unchanged, through the
// package's SetupWithManager (the way the manager wires it).
func TestSampleStudent(t *testing.T) {
	f := newFixture(t, fixtureOptions{namespace: "default", viaSetup: true})
	raw, err := os.ReadFile("testdata/sample-student.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sample := &demov1.PostgresWriter{}
	if err := yaml.UnmarshalStrict(raw, sample); err != nil {
		t.Fatalf("decoding the sample: %v", err)
	}
	f.create(sample)

	f.waitRow("students", Row{ID: "default/sample-student", Name: "alex", Age: 23, Country: "canada"})
	pw := f.waitReady("sample-student", metav1.ConditionTrue, ReasonRowWritten, 0)
	if !controllerutil.ContainsFinalizer(pw, Finalizer) {
		t.Errorf("finalizer %s missing: %v", Finalizer, pw.Finalizers)
	}
	if pw.Status.Table != "students" {
		t.Errorf("status.table = %q", pw.Status.Table)
	}

	gen := f.edit("sample-student", func(s *demov1.PostgresWriterSpec) { s.Age = 24 })
	f.waitRow("students", Row{ID: "default/sample-student", Name: "alex", Age: 24, Country: "canada"})
	f.waitReady("sample-student", metav1.ConditionTrue, ReasonRowWritten, gen)

	f.delete("sample-student")
	f.waitGone("sample-student")
	f.waitNoRow("students", "default/sample-student")
}

// TestInvalidTableNamesRunNoSQL: names that are not plain identifiers are
// refused with a condition, without a single statement.
func TestInvalidTableNamesRunNoSQL(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.exec(`CREATE TABLE IF NOT EXISTS x (id text PRIMARY KEY)`)
	tablesBefore := f.tableCount()

	bad := map[string]string{
		"injection":    "students; DROP TABLE x",
		"quote":        `students"; DROP TABLE x; --`,
		"single-quote": "students'; DROP TABLE x; --",
		"space":        "my students",
		"quoted":       `"students"`,
		"three-parts":  "a.b.c",
		"comment":      "students--",
	}
	for name, table := range bad {
		f.create(f.writer(name, table, "alex", 23, "canada"))
	}
	for name := range bad {
		pw := f.waitReady(name, metav1.ConditionFalse, ReasonInvalidTableName, 0)
		msg := meta.FindStatusCondition(pw.Status.Conditions, conditions.Ready).Message
		if !strings.Contains(msg, "nothing was executed") {
			t.Errorf("%s: condition message does not say nothing ran: %s", name, msg)
		}
	}
	if n := f.counts.calls.Load(); n != 0 {
		t.Fatalf("%d statements were run for invalid table names", n)
	}
	if !f.tableExists("x") {
		t.Fatal("table x was dropped")
	}
	if got := f.tableCount(); got != tablesBefore {
		t.Fatalf("tables changed: %d before, %d after", tablesBefore, got)
	}

	// Deleting them needs no SQL either: no row was ever written.
	for name := range bad {
		f.delete(name)
	}
	for name := range bad {
		f.waitGone(name)
	}
	if n := f.counts.calls.Load(); n != 0 {
		t.Fatalf("%d statements were run deleting resources with invalid table names", n)
	}

	// Fixing the name makes the resource converge.
	f.create(f.writer("fixed", "students; DROP TABLE x", "alex", 23, "canada"))
	f.waitReady("fixed", metav1.ConditionFalse, ReasonInvalidTableName, 0)
	table := uniqueTable("fixed")
	gen := f.edit("fixed", func(s *demov1.PostgresWriterSpec) { s.Table = table })
	f.waitReady("fixed", metav1.ConditionTrue, ReasonRowWritten, gen)
	f.waitRow(table, Row{ID: f.ns + "/fixed", Name: "alex", Age: 23, Country: "canada"})
	if !f.tableExists("x") {
		t.Fatal("table x was dropped")
	}
}

func (f *fixture) tableCount() int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRow(f.ctx, "SELECT count(*) FROM pg_catalog.pg_tables").Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// TestValuesCannotBreakOut: quotes and SQL in the row's values, and reserved
// words or mixed case as table names, are data, not SQL.
func TestValuesCannotBreakOut(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.exec(`CREATE TABLE IF NOT EXISTS victim (id text PRIMARY KEY)`)

	evil := `O'Brien"); DROP TABLE victim; --`
	f.create(f.writer("evil", "students", evil, 0, `can'ada "x" ; DELETE FROM students`))
	f.waitRow("students", Row{ID: f.ns + "/evil", Name: evil, Age: 0, Country: `can'ada "x" ; DELETE FROM students`})

	// A reserved word is a fine table name once quoted; case folds like SQL.
	f.create(f.writer("reserved", "Public.Order", "bo", 7, "norway"))
	f.waitReady("reserved", metav1.ConditionTrue, ReasonRowWritten, 0)
	f.waitRow("public.order", Row{ID: f.ns + "/reserved", Name: "bo", Age: 7, Country: "norway"})

	if !f.tableExists("victim") {
		t.Fatal("table victim was dropped")
	}
}

// TestTableChangeMovesRow: editing spec.table moves the row.
func TestTableChangeMovesRow(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	first, second := uniqueTable("first"), uniqueTable("second")
	f.create(f.writer("mover", first, "kim", 30, "korea"))
	id := f.ns + "/mover"
	f.waitRow(first, Row{ID: id, Name: "kim", Age: 30, Country: "korea"})

	gen := f.edit("mover", func(s *demov1.PostgresWriterSpec) { s.Table = second })
	f.waitReady("mover", metav1.ConditionTrue, ReasonRowWritten, gen)
	f.waitRow(second, Row{ID: id, Name: "kim", Age: 30, Country: "korea"})
	f.waitNoRow(first, id)

	f.delete("mover")
	f.waitGone("mover")
	f.waitNoRow(second, id)
}

// TestSkipTableCreation: without table creation a missing table is reported,
// and the row converges once someone creates the table.
func TestSkipTableCreation(t *testing.T) {
	f := newFixture(t, fixtureOptions{skipTableCreation: true})
	table := uniqueTable("precreated")
	f.create(f.writer("waiting", table, "ana", 41, "chile"))
	f.waitReady("waiting", metav1.ConditionFalse, ReasonTableMissing, 0)
	if f.tableExists(table) {
		t.Fatal("table was created although creation is disabled")
	}

	f.exec(`CREATE TABLE ` + table + ` (id text PRIMARY KEY, name text, age integer, country text)`)
	f.waitRow(table, Row{ID: f.ns + "/waiting", Name: "ana", Age: 41, Country: "chile"})
	f.waitReady("waiting", metav1.ConditionTrue, ReasonRowWritten, 0)
}

// stopDatabase stops the shared server; the cleanup starts it again should the
// test end early.
func stopDatabase(t *testing.T) {
	t.Helper()
	if err := pg.stop(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := pg.start(); err != nil {
			t.Errorf("restarting PostgreSQL: %v", err)
		}
	})
}

func startDatabase(t *testing.T) {
	t.Helper()
	if err := pg.start(); err != nil {
		t.Fatal(err)
	}
}

// TestEditWhileDatabaseDown: an edit made while PostgreSQL is down is reported
// and reaches the row once the database is back.
func TestEditWhileDatabaseDown(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	table := uniqueTable("outage")
	f.create(f.writer("patient", table, "lee", 50, "china"))
	id := f.ns + "/patient"
	f.waitRow(table, Row{ID: id, Name: "lee", Age: 50, Country: "china"})

	stopDatabase(t)
	gen := f.edit("patient", func(s *demov1.PostgresWriterSpec) { s.Age = 51; s.Country = "japan" })
	f.waitReady("patient", metav1.ConditionFalse, ReasonDatabaseUnavailable, gen)

	startDatabase(t)
	f.waitRow(table, Row{ID: id, Name: "lee", Age: 51, Country: "japan"})
	f.waitReady("patient", metav1.ConditionTrue, ReasonRowWritten, gen)
}

// TestDeleteWhileDatabaseDown: the finalizer holds the resource until its row
// is deleted, however long the database is away.
func TestDeleteWhileDatabaseDown(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	table := uniqueTable("outage")
	f.create(f.writer("leaver", table, "sam", 33, "peru"))
	id := f.ns + "/leaver"
	f.waitRow(table, Row{ID: id, Name: "sam", Age: 33, Country: "peru"})

	stopDatabase(t)
	f.delete("leaver")
	f.eventually("the failed deletion to be reported", func() (bool, string) {
		pw, err := f.get("leaver")
		if err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(pw.Status.Conditions, conditions.Ready)
		if pw.DeletionTimestamp == nil || c == nil || c.Reason != ReasonDatabaseUnavailable {
			return false, fmt.Sprintf("deletion %v, condition %+v", pw.DeletionTimestamp, c)
		}
		return true, ""
	})
	// Retries keep failing while the database is down: the resource stays.
	before := f.counts.calls.Load()
	f.eventually("more deletion attempts", func() (bool, string) {
		n := f.counts.calls.Load()
		return n >= before+2, fmt.Sprintf("%d attempts since the report", n-before)
	})
	pw, err := f.get("leaver")
	if err != nil {
		t.Fatalf("resource gone while its row could not be deleted: %v", err)
	}
	if !controllerutil.ContainsFinalizer(pw, Finalizer) {
		t.Fatalf("finalizer removed while the database is down: %v", pw.Finalizers)
	}

	startDatabase(t)
	f.waitGone("leaver")
	f.waitNoRow(table, id)
}

// TestRowAlreadyGone: deleting a resource whose row (or table) someone already
// removed is fine.
func TestRowAlreadyGone(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	table := uniqueTable("gone")
	f.create(f.writer("a", table, "a", 1, "a"))
	f.create(f.writer("b", table, "b", 2, "b"))
	f.waitRow(table, Row{ID: f.ns + "/a", Name: "a", Age: 1, Country: "a"})
	f.waitRow(table, Row{ID: f.ns + "/b", Name: "b", Age: 2, Country: "b"})

	f.exec(`DELETE FROM ` + table + ` WHERE id = '` + f.ns + `/a'`)
	f.delete("a")
	f.waitGone("a")

	f.exec(`DROP TABLE ` + table)
	f.delete("b")
	f.waitGone("b")
}

// TestCRDValidation: the API server refuses what the schema rules out; table
// names are left to the operator so that it can explain its refusal.
func TestCRDValidation(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	negative := f.writer("negative", "students", "x", 0, "y")
	negative.Spec.Age = -1
	if err := f.c.Create(f.ctx, negative); !apierrors.IsInvalid(err) {
		t.Errorf("age -1: got %v, want Invalid", err)
	}

	missing := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "demo.yash.com/v1",
		"kind":       "PostgresWriter",
		"metadata":   map[string]any{"namespace": f.ns, "name": "missing"},
		"spec":       map[string]any{"table": "students", "name": "x"},
	}}
	err := f.c.Create(f.ctx, missing)
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "age") || !strings.Contains(err.Error(), "country") {
		t.Errorf("spec without age and country: got %v, want Invalid naming both", err)
	}

	noSpec := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "demo.yash.com/v1",
		"kind":       "PostgresWriter",
		"metadata":   map[string]any{"namespace": f.ns, "name": "nospec"},
	}}
	if err := f.c.Create(f.ctx, noSpec); !apierrors.IsInvalid(err) {
		t.Errorf("no spec: got %v, want Invalid", err)
	}
}
