package support

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/log"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/notify"
	"github.com/tugboat-dev/tugboat/internal/selection"
)

// clusterTimeout bounds the collection from one cluster.
const clusterTimeout = 2 * time.Minute

// maxAttachment is the largest archive attached to notifications that take
// attachments (SMTP); a larger one is only named.
const maxAttachment = 10 << 20

// TechsupportReconciler collects a Techsupport's objects, events and logs into
// an archive: once when onDemand is set (and again whenever the spec changes),
// and on the schedule of schedulingConfig.
type TechsupportReconciler struct {
	// Kubernetes options
	Client client.Client
	// APIReader and Config read the management cluster directly (collections
	// list arbitrary kinds: no informer is started for them).
	APIReader client.Reader
	Config    *rest.Config
	Recorder  events.EventRecorder

	// Fleet options
	Fleet    clusters.Fleet
	Registry *clusters.Registry

	// ArchiveDir is where archives go: <ArchiveDir>/<techsupport>/<techsupport>-<time>.tar.gz.
	ArchiveDir string
	// Notifier announces each archive.
	Notifier *notify.Sender
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// SetupWithManager watches Techsupports.
func (r *TechsupportReconciler) SetupWithManager(mgr ctrl.Manager, concurrency int) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&libv1beta1.Techsupport{}).
		Named("techsupport").
		WithOptions(controller.Options{MaxConcurrentReconciles: max(concurrency, 1)}).
		Complete(r)
}

func (r *TechsupportReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile runs a collection when one is due and schedules the next.
func (r *TechsupportReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, err error) {
	ts := &libv1beta1.Techsupport{}
	if err := r.Client.Get(ctx, req.NamespacedName, ts); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !ts.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	patcher := conditions.NewStatusPatcher(r.Client, ts)
	defer func() { err = errors.Join(err, patcher.Patch(ctx, ts)) }()

	now := r.now()
	hash, err := specHash(&ts.Spec)
	if err != nil {
		return ctrl.Result{}, fmt.Errorf("Techsupport %s: %w", ts.Name, err)
	}
	specChanged := !bytes.Equal(ts.Status.Hash, hash)

	var schedule cron.Schedule
	if sc := ts.Spec.SchedulingConfig; sc != nil {
		schedule, err = cron.ParseStandard(sc.Schedule)
		if err != nil {
			r.failed(ts, now, "InvalidSchedule", fmt.Sprintf("schedulingConfig.schedule %q: %v", sc.Schedule, err))
			ts.Status.NextScheduleTime = nil
			ts.Status.Hash = hash
			return ctrl.Result{}, nil
		}
	} else {
		ts.Status.NextScheduleTime = nil
	}

	due, missed := false, false
	reason := ""
	if ts.Spec.OnDemand && specChanged {
		due, reason = true, "on demand"
	}
	if schedule != nil {
		next := ts.Status.NextScheduleTime
		switch {
		case next == nil || specChanged:
			ts.Status.NextScheduleTime = &metav1.Time{Time: schedule.Next(now.UTC())}
		case !now.Before(next.Time):
			deadline := ts.Spec.SchedulingConfig.StartingDeadlineSeconds
			if deadline != nil && now.Sub(next.Time) > time.Duration(*deadline)*time.Second {
				missed = true
				r.failed(ts, now, "MissedSchedule", fmt.Sprintf("the collection scheduled at %s did not start within startingDeadlineSeconds (%ds); it was skipped",
					next.UTC().Format(time.RFC3339), *deadline))
			} else if !due {
				due, reason = true, "scheduled at "+next.UTC().Format(time.RFC3339)
			}
			ts.Status.NextScheduleTime = &metav1.Time{Time: schedule.Next(now.UTC())}
		}
	}
	ts.Status.Hash = hash
	if due && !missed {
		r.run(ctx, ts, now, reason)
	}
	if next := ts.Status.NextScheduleTime; next != nil {
		return ctrl.Result{RequeueAfter: max(next.Sub(r.now()), time.Second)}, nil
	}
	return ctrl.Result{}, nil
}

// failed records a run that failed (or could not start).
func (r *TechsupportReconciler) failed(ts *libv1beta1.Techsupport, now time.Time, reason, msg string) {
	status := libv1beta1.CollectionStatusFailed
	ts.Status.LastRunTime = &metav1.Time{Time: now}
	ts.Status.LastRunStatus = &status
	ts.Status.FailureMessage = &msg
	r.Recorder.Eventf(ts, nil, corev1.EventTypeWarning, reason, "Collect", "%s", shorten(fmt.Sprintf("Techsupport %s: %s", ts.Name, msg), maxEventNote))
}

// maxEventNote is the longest note an Event holds (1 KiB); maxProblemsText
// bounds the problems quoted in status (all of them are in the archive's
// techsupport.json).
const (
	maxEventNote    = 1024
	maxProblemsText = 4096
)

// shorten cuts s to at most n bytes, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// describeProblems joins the problems of a run, quoting as many as fit.
func describeProblems(problems []string) string {
	text := ""
	for i, p := range problems {
		next := p
		if i > 0 {
			next = "; " + p
		}
		if len(text)+len(next) > maxProblemsText {
			return fmt.Sprintf("%s; and %d more (see techsupport.json in the archive)", text, len(problems)-i)
		}
		text += next
	}
	return text
}

// run collects, writes the archive and announces it.
func (r *TechsupportReconciler) run(ctx context.Context, ts *libv1beta1.Techsupport, now time.Time, reason string) {
	logger := log.FromContext(ctx)
	mgmtPlan, err := compilePlan("fromManagement", ts.Spec.FromManagement.Resources, ts.Spec.FromManagement.Logs, ts.Spec.FromManagement.Events)
	if err != nil {
		r.failed(ts, now, "InvalidSpec", err.Error())
		return
	}
	managedPlan, err := compilePlan("fromManaged", ts.Spec.FromManaged.Resources, ts.Spec.FromManaged.Logs, ts.Spec.FromManaged.Events)
	if err != nil {
		r.failed(ts, now, "InvalidSpec", err.Error())
		return
	}
	targets, problems, err := r.managedClusters(ctx, &ts.Spec.FromManaged)
	if err != nil {
		r.failed(ts, now, "InvalidSpec", err.Error())
		return
	}

	archivePath := archivePathFor(r.ArchiveDir, ts.Name, now)
	archive, err := newArchive(archivePath, now)
	if err != nil {
		r.failed(ts, now, "ArchiveFailed", err.Error())
		return
	}
	c := &collector{archive: archive, written: map[string]bool{}, problems: problems}
	err = r.collectAll(ctx, c, mgmtPlan, managedPlan, targets)
	if err == nil {
		err = c.writeSummary(ts, now, reason, targets)
	}
	if err != nil {
		archive.abort()
		r.failed(ts, now, "ArchiveFailed", err.Error())
		return
	}
	size, err := archive.close()
	if err != nil {
		r.failed(ts, now, "ArchiveFailed", err.Error())
		return
	}
	logger.Info("techsupport archive written", "path", archivePath, "bytes", size, "objects", c.objects, "problems", len(c.problems))

	msg := notify.Message{
		Title:   fmt.Sprintf("Techsupport %s: archive %s (%d bytes)", ts.Name, archivePath, size),
		Text:    fmt.Sprintf("%d objects and events collected (%s)", c.objects, reason),
		Healthy: len(c.problems) == 0,
		Reason:  "TechsupportArchive",
	}
	if len(c.problems) == 0 {
		status := libv1beta1.CollectionStatusCollected
		ts.Status.LastRunTime = &metav1.Time{Time: now}
		ts.Status.LastRunStatus = &status
		ts.Status.FailureMessage = nil
		r.Recorder.Eventf(ts, nil, corev1.EventTypeNormal, "Collected", "Collect", "archive %s (%d bytes, %d objects)", archivePath, size, c.objects)
	} else {
		problemText := describeProblems(c.problems)
		r.failed(ts, now, "CollectionFailed", fmt.Sprintf("%s (archive %s holds what could be collected)", problemText, archivePath))
		msg.Text += "\nproblems: " + problemText
	}
	r.announce(ctx, ts, msg, archivePath, size)
}

// announce tells every notification of the Techsupport about the archive; a
// notification that cannot be delivered is reported in a Warning Event.
func (r *TechsupportReconciler) announce(ctx context.Context, ts *libv1beta1.Techsupport, msg notify.Message, archivePath string, size int64) {
	for _, n := range ts.Spec.Notifications {
		m := msg
		if n.Type == libv1beta1.NotificationTypeSMTP && size <= maxAttachment {
			if data, err := os.ReadFile(archivePath); err == nil {
				m.Attachment = &notify.Attachment{Name: filepath.Base(archivePath), ContentType: "application/gzip", Data: data}
			}
		}
		if err := r.Notifier.Send(ctx, ts, n, m); err != nil {
			r.Recorder.Eventf(ts, nil, corev1.EventTypeWarning, "NotificationFailed", "Notify", "%s", shorten(err.Error(), maxEventNote))
			log.FromContext(ctx).Error(err, "announcing the techsupport archive", "notification", n.Name)
		}
	}
}

// collectAll collects from the management cluster and each managed cluster.
func (r *TechsupportReconciler) collectAll(ctx context.Context, c *collector, mgmtPlan, managedPlan plan, targets []libv1beta1.ClusterID) error {
	if !mgmtPlan.empty() {
		cctx, cancel := context.WithTimeout(ctx, clusterTimeout)
		err := c.collect(cctx, source{root: "management", reader: r.APIReader, config: r.Config}, mgmtPlan)
		cancel()
		if err != nil {
			return err
		}
	}
	if managedPlan.empty() {
		return nil
	}
	for _, id := range targets {
		root := clusterRoot(id)
		conn, err := r.Registry.Get(ctx, id)
		if err != nil {
			c.fail("cluster %s: %v", id, err)
			continue
		}
		cl, err := conn.Client()
		if err != nil {
			c.fail("cluster %s: %v", id, err)
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, clusterTimeout)
		before := len(c.problems)
		err = c.collect(cctx, source{root: root, reader: cl, config: conn.Config}, managedPlan)
		cancel()
		if err != nil {
			return err
		}
		for i := before; i < len(c.problems); i++ {
			c.problems[i] = "cluster " + id.String() + ": " + strings.TrimPrefix(c.problems[i], root+": ")
		}
	}
	return nil
}

// managedClusters returns the clusters fromManaged names or selects. Named
// clusters that do not exist are problems of the run; a malformed reference
// or selector is an error of the spec.
func (r *TechsupportReconciler) managedClusters(ctx context.Context, from *libv1beta1.FromManaged) ([]libv1beta1.ClusterID, []string, error) {
	if len(from.Resources)+len(from.Logs)+len(from.Events) == 0 {
		return nil, nil, nil
	}
	if _, err := selection.Compile(from.ClusterSelector); err != nil {
		return nil, nil, fmt.Errorf("fromManaged.clusterSelector: %w", err)
	}
	var out []libv1beta1.ClusterID
	var problems []string
	seen := map[libv1beta1.ClusterID]bool{}
	for i, ref := range from.ClusterRefs {
		id, ok := libv1beta1.ClusterIDFromRef(ref, "")
		if !ok {
			return nil, nil, fmt.Errorf("fromManaged.clusterRefs[%d]: kind %q is not a cluster (SveltosCluster or cluster.x-k8s.io Cluster)", i, ref.Kind)
		}
		if id.Namespace == "" || id.Name == "" {
			return nil, nil, fmt.Errorf("fromManaged.clusterRefs[%d]: namespace and name are required", i)
		}
		id = id.Normal()
		if _, err := r.Fleet.Get(ctx, id); err != nil {
			if apierrors.IsNotFound(err) {
				problems = append(problems, fmt.Sprintf("cluster %s (fromManaged.clusterRefs[%d]) does not exist", id, i))
				continue
			}
			return nil, nil, err
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	if !from.ClusterSelector.IsEmpty() {
		fleet, err := r.Fleet.List(ctx, "")
		if err != nil {
			return nil, nil, err
		}
		refs, err := selection.MatchingClusters(selection.Scope{ClusterSelector: from.ClusterSelector}, fleet)
		if err != nil {
			return nil, nil, fmt.Errorf("fromManaged.clusterSelector: %w", err)
		}
		for _, ref := range refs {
			id, _ := libv1beta1.ClusterIDFromRef(ref, "")
			id = id.Normal()
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out, problems, nil
}

// writeSummary adds techsupport.yaml: what was asked, when, from where, and the problems.
func (c *collector) writeSummary(ts *libv1beta1.Techsupport, now time.Time, reason string, targets []libv1beta1.ClusterID) error {
	clusterNames := make([]string, 0, len(targets))
	for _, id := range targets {
		clusterNames = append(clusterNames, id.String())
	}
	summary := map[string]any{
		"techsupport": ts.Name,
		"time":        now.UTC().Format(time.RFC3339),
		"why":         reason,
		"clusters":    clusterNames,
		"objects":     c.objects,
		"problems":    c.problems,
	}
	data, err := json.MarshalIndent(summary, "", "  ")
	if err != nil {
		return err
	}
	return c.archive.add("techsupport.json", append(data, '\n'))
}

// specHash is the digest of the spec (status.hash): an on-demand collection
// runs again when it changes.
func specHash(spec *libv1beta1.TechsupportSpec) ([]byte, error) {
	data, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("hashing the spec: %w", err)
	}
	sum := sha256.Sum256(data)
	return sum[:], nil
}

// archivePathFor names a run's archive after the Techsupport and the run's
// time (milliseconds, UTC); a name already taken gets a counter, so that no
// run overwrites another's archive.
func archivePathFor(dir, name string, now time.Time) string {
	base := filepath.Join(dir, name, fmt.Sprintf("%s-%s", name, now.UTC().Format("20060102T150405.000Z")))
	path := base + ".tar.gz"
	for i := 2; ; i++ {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return path
		}
		path = fmt.Sprintf("%s-%d.tar.gz", base, i)
	}
}
