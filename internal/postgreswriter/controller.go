// Package postgreswriter is the PostgresWriter operator: every demo.yash.com/v1
// PostgresWriter is kept as the row "<namespace>/<name>" of the PostgreSQL table
// its spec names, through one pgx connection pool.
//
// Create and update upsert the row (creating the table when missing, unless
// disabled); a finalizer deletes the row before the resource goes. Table names
// are validated identifiers, quoted in SQL; values are always parameters. A table
// name that is not an identifier is reported (Ready=False, InvalidTableName) and
// nothing is executed. When the database is unreachable the Ready condition says
// so and the reconciliation is retried with exponential backoff, so the row
// converges when the database returns.
package postgreswriter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	demov1 "github.com/tugboat-dev/tugboat/api/demo/v1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
)

// Finalizer keeps a PostgresWriter until its row is deleted.
const Finalizer = "demo.yash.com/postgres-row"

// Reasons of the Ready condition (conditions.Ready: whether the row matches the
// spec).
const (
	// ReasonRowWritten: the row holds the spec (Ready=True).
	ReasonRowWritten = "RowWritten"
	// ReasonInvalidTableName: spec.table is not a plain identifier; nothing was
	// executed and nothing will be until the spec changes (Stalled).
	ReasonInvalidTableName = "InvalidTableName"
	// ReasonDatabaseUnavailable: the database could not be reached; retrying.
	ReasonDatabaseUnavailable = "DatabaseUnavailable"
	// ReasonTableMissing: the table (or its schema) does not exist and the
	// operator does not create it; retrying.
	ReasonTableMissing = "TableMissing"
	// ReasonWriteFailed: the server refused the statement; retrying.
	ReasonWriteFailed = "WriteFailed"
	// ReasonDeleteFailed: the row could not be deleted; the finalizer stays.
	ReasonDeleteFailed = "DeleteFailed"
)

// controllerName names the controller in logs and metrics.
const controllerName = "postgreswriter"

// maxMessage bounds condition messages (errors can be long).
const maxMessage = 1024

// +kubebuilder:rbac:groups=demo.yash.com,resources=postgreswriters,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=demo.yash.com,resources=postgreswriters/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=demo.yash.com,resources=postgreswriters/finalizers,verbs=update

// Reconciler keeps PostgresWriter resources and their rows in sync.
type Reconciler struct {
	// Client reads and updates PostgresWriter resources.
	Client client.Client
	// Store writes the rows.
	Store RowStore
	// OperationTimeout bounds the SQL work of one reconciliation (default 30s).
	OperationTimeout time.Duration
	// MaxRetryDelay caps the backoff between failed reconciliations (default 30s).
	MaxRetryDelay time.Duration
	// MaxConcurrentReconciles defaults to 1.
	MaxConcurrentReconciles int
}

// SetupWithManager opens the connection pool described by opts (flags, then
// PSQL_* environment), registers the PostgresWriter controller with mgr and
// closes the pool when mgr stops. The database need not be up yet.
func SetupWithManager(ctx context.Context, mgr ctrl.Manager, opts Options) error {
	resolved, err := opts.resolved(os.Getenv)
	if err != nil {
		return fmt.Errorf("postgres writer options: %w", err)
	}
	cfg, err := resolved.PoolConfig()
	if err != nil {
		return fmt.Errorf("postgres writer options: %w", err)
	}
	logger := mgr.GetLogger().WithName(controllerName)
	store, err := NewStore(cfg, !resolved.SkipTableCreation)
	if err != nil {
		return err
	}
	logger.Info("PostgreSQL connection pool configured", describe(cfg)...)
	pingCtx, cancel := context.WithTimeout(ctx, resolved.ConnectTimeout)
	defer cancel()
	if err := store.Ping(pingCtx); err != nil {
		logger.Info("PostgreSQL not reachable yet; resources will report it and be retried", "error", err.Error())
	}
	r := &Reconciler{
		Client:                  mgr.GetClient(),
		Store:                   store,
		OperationTimeout:        resolved.OperationTimeout,
		MaxRetryDelay:           resolved.MaxRetryDelay,
		MaxConcurrentReconciles: resolved.MaxConcurrentReconciles,
	}
	if err := r.SetupWithManager(mgr); err != nil {
		store.Close()
		return err
	}
	closer := manager.RunnableFunc(func(ctx context.Context) error {
		<-ctx.Done()
		store.Close()
		return nil
	})
	if err := mgr.Add(closer); err != nil {
		store.Close()
		return fmt.Errorf("registering the connection pool's closer: %w", err)
	}
	return nil
}

// SetupWithManager registers the reconciler with mgr.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	maxDelay := r.MaxRetryDelay
	if maxDelay <= 0 {
		maxDelay = 30 * time.Second
	}
	err := ctrl.NewControllerManagedBy(mgr).
		Named(controllerName).
		For(&demov1.PostgresWriter{}, builder.WithPredicates(specOrLifecycleChanged())).
		WithOptions(controller.Options{
			MaxConcurrentReconciles: r.MaxConcurrentReconciles,
			RateLimiter:             workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](50*time.Millisecond, maxDelay),
		}).
		Complete(r)
	if err != nil {
		return fmt.Errorf("setting up the %s controller: %w", controllerName, err)
	}
	return nil
}

// specOrLifecycleChanged lets through updates that change what the row should
// be or whether it should exist, not the controller's own status writes.
func specOrLifecycleChanged() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			if e.ObjectOld == nil || e.ObjectNew == nil {
				return true
			}
			o, n := e.ObjectOld, e.ObjectNew
			return o.GetGeneration() != n.GetGeneration() ||
				!equality.Semantic.DeepEqual(o.GetDeletionTimestamp(), n.GetDeletionTimestamp()) ||
				!equality.Semantic.DeepEqual(o.GetFinalizers(), n.GetFinalizers())
		},
	}
}

// Reconcile brings the row of one PostgresWriter in line with it. The status is
// computed in memory on every path and written once, when Reconcile returns.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (_ ctrl.Result, retErr error) {
	pw := &demov1.PostgresWriter{}
	if err := r.Client.Get(ctx, req.NamespacedName, pw); err != nil {
		if apierrors.IsNotFound(err) {
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, fmt.Errorf("getting PostgresWriter %s: %w", req.NamespacedName, err)
	}
	patcher := conditions.NewStatusPatcher(r.Client, pw)
	defer func() { retErr = errors.Join(retErr, patcher.Patch(ctx, pw)) }()
	id := rowID(pw)
	logger := log.FromContext(ctx).WithValues("table", pw.Spec.Table, "rowID", id)
	ctx = log.IntoContext(ctx, logger)

	if !pw.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, r.finalize(ctx, pw, id)
	}

	if !controllerutil.ContainsFinalizer(pw, Finalizer) {
		orig := pw.DeepCopy()
		controllerutil.AddFinalizer(pw, Finalizer)
		if err := r.Client.Patch(ctx, pw, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
			return ctrl.Result{}, fmt.Errorf("adding finalizer to PostgresWriter %s: %w", req.NamespacedName, err)
		}
	}

	table, err := ParseTableName(pw.Spec.Table)
	if err != nil {
		// Nothing to retry: only a new spec can fix this, and a new spec
		// triggers a new reconciliation.
		logger.Info("refusing invalid table name", "reason", err.Error())
		markStalled(pw, ReasonInvalidTableName, fmt.Sprintf("spec.table is refused, nothing was executed: %v", err))
		return ctrl.Result{}, nil
	}

	sqlCtx, cancel := context.WithTimeout(ctx, r.operationTimeout())
	defer cancel()
	row := Row{ID: id, Name: pw.Spec.Name, Age: pw.Spec.Age, Country: pw.Spec.Country}
	if err := r.Store.Upsert(sqlCtx, table, row); err != nil {
		markFailed(pw, writeFailureReason(err), err.Error())
		return ctrl.Result{}, err
	}
	// The row moved to another table: take it out of the old one.
	if pw.Status.Table != "" && pw.Status.Table != table.String() {
		if old, perr := ParseTableName(pw.Status.Table); perr == nil {
			if err := r.Store.Delete(sqlCtx, old, id); err != nil {
				markFailed(pw, writeFailureReason(err),
					fmt.Sprintf("row written to %s but not yet removed from %s: %v", table, old, err))
				return ctrl.Result{}, err
			}
		}
	}
	pw.Status.Table = table.String()
	markRowWritten(pw, fmt.Sprintf("row %q written to table %s", id, table))
	logger.V(1).Info("row written")
	return ctrl.Result{}, nil
}

// finalize deletes the row from every table it may be in, then releases the
// resource. On failure the finalizer stays, the Ready condition says why and
// the deletion is retried.
func (r *Reconciler) finalize(ctx context.Context, pw *demov1.PostgresWriter, id string) error {
	if !controllerutil.ContainsFinalizer(pw, Finalizer) {
		return nil
	}
	var tables []TableName
	if t, err := ParseTableName(pw.Spec.Table); err == nil {
		tables = append(tables, t)
	}
	if t, err := ParseTableName(pw.Status.Table); err == nil && (len(tables) == 0 || tables[0].String() != t.String()) {
		tables = append(tables, t)
	}
	sqlCtx, cancel := context.WithTimeout(ctx, r.operationTimeout())
	defer cancel()
	for _, t := range tables {
		if err := r.Store.Delete(sqlCtx, t, id); err != nil {
			reason := ReasonDeleteFailed
			if isUnavailable(err) {
				reason = ReasonDatabaseUnavailable
			}
			markFailed(pw, reason, fmt.Sprintf("deleting the row, the resource is kept until it is gone: %v", err))
			return err
		}
	}
	orig := pw.DeepCopy()
	controllerutil.RemoveFinalizer(pw, Finalizer)
	if err := r.Client.Patch(ctx, pw, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("removing finalizer from PostgresWriter %s/%s: %w", pw.Namespace, pw.Name, err)
	}
	log.FromContext(ctx).Info("row deleted, resource released")
	return nil
}

func (r *Reconciler) operationTimeout() time.Duration {
	if r.OperationTimeout > 0 {
		return r.OperationTimeout
	}
	return 30 * time.Second
}

// markRowWritten records the row matching the spec: Ready True (RowWritten).
func markRowWritten(pw *demov1.PostgresWriter, msg string) {
	pw.Status.ObservedGeneration = pw.Generation
	conditions.MarkTrue(pw, conditions.Ready, ReasonRowWritten, "%s", boundMessage(msg))
	conditions.Delete(pw, conditions.Reconciling)
	conditions.Delete(pw, conditions.Stalled)
}

// markFailed records a failure a retry may fix: Ready False.
func markFailed(pw *demov1.PostgresWriter, reason, msg string) {
	pw.Status.ObservedGeneration = pw.Generation
	conditions.MarkFailed(pw, reason, "%s", boundMessage(msg))
}

// markStalled records a spec nothing will be done for until it changes: Ready
// False and Stalled.
func markStalled(pw *demov1.PostgresWriter, reason, msg string) {
	pw.Status.ObservedGeneration = pw.Generation
	conditions.MarkStalled(pw, reason, "%s", boundMessage(msg))
}

func boundMessage(msg string) string {
	if len(msg) > maxMessage {
		return strings.ToValidUTF8(msg[:maxMessage-3], "") + "..."
	}
	return msg
}

// writeFailureReason classifies a failed write for the Ready condition.
func writeFailureReason(err error) string {
	switch {
	case isUnavailable(err):
		return ReasonDatabaseUnavailable
	case isUndefinedTable(err), hasSQLState(err, sqlstateInvalidSchemaName):
		return ReasonTableMissing
	default:
		return ReasonWriteFailed
	}
}

// rowID is the primary key of a resource's row.
func rowID(pw *demov1.PostgresWriter) string { return pw.Namespace + "/" + pw.Name }
