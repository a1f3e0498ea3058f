// Package helm installs, upgrades, reads and uninstalls Helm releases in managed
// clusters through the Helm Go SDK (helm.sh/helm/v4).
//
// A Client is shared by every cluster: it caches repository indexes in memory and
// chart archives on disk, keyed by (repository URL, chart, version), so one download
// serves all clusters. Releases are stored the Helm way, as Secrets in the release
// namespace of the managed cluster, which is reached through a *rest.Config only.
//
// Apply is idempotent: it installs a missing release, upgrades one whose chart
// version or values differ from the deployed revision, and otherwise performs no
// Helm action at all (ApplyResult.Action is ActionUnchanged).
//
// Deploy is the release engine on top of it, shaped like internal/deployer: a
// Request (the releases one profile wants in one cluster, the releases other
// profiles hold there) in, a Result out. It arbitrates by tier with the
// deployer's rule, applies, uninstalls releases no longer listed, and reports
// instead in a dry run; Withdraw uninstalls what a profile managed.
package helm

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"time"

	"helm.sh/helm/v4/pkg/action"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/kube"
	ri "helm.sh/helm/v4/pkg/release"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// ValuesHashLabel is the release label holding the hash of the values Tugboat
// requested (see ValuesHash). It is what Apply compares when the stored values
// are a merge (reuseValues / resetThenReuseValues).
const ValuesHashLabel = "tugboat.dev/values-hash"

// DefaultTimeout bounds a Helm operation when the chart's options set none.
const DefaultTimeout = 5 * time.Minute

// ErrReleaseNotFound is returned (wrapped) by Release when the release has no record.
var ErrReleaseNotFound = errors.New("helm release not found")

// Action is what Apply did.
type Action string

const (
	// ActionInstalled means a new release (revision 1, or a replace of an
	// uninstalled one kept in history) was installed.
	ActionInstalled Action = "Installed"
	// ActionUpgraded means a new revision of an existing release was deployed.
	ActionUpgraded Action = "Upgraded"
	// ActionUnchanged means the deployed release already had the chart version and
	// values: no Helm action ran and nothing was downloaded.
	ActionUnchanged Action = "Unchanged"
)

// ApplyResult is the outcome of Apply.
type ApplyResult struct {
	Action  Action
	Release *Release
}

// Release is a deployed (or recorded) Helm release as read from the cluster.
type Release struct {
	Name         string
	Namespace    string
	Revision     int
	Status       string // deployed, failed, uninstalled, superseded, pending-…
	Description  string
	ChartName    string
	ChartVersion string
	AppVersion   string
	// Values are the user-supplied values stored with the release.
	Values map[string]any
	// ValuesHash is ValuesHash(Values).
	ValuesHash string
	// RequestedValuesHash is the ValuesHashLabel of the release, if Tugboat set one.
	RequestedValuesHash string
	Labels              map[string]string
	// Manifest is the rendered manifest of the release (hooks excluded).
	Manifest string
	// Objects are the manifest's objects, with the namespace filled in for
	// namespaced kinds the cluster knows.
	Objects []*unstructured.Unstructured
}

// Options configure a Client.
type Options struct {
	// HTTPClient fetches repository indexes and chart archives. Default: a client
	// with a one-minute timeout.
	HTTPClient *http.Client
	// PlainHTTPRegistries talks to OCI registries over plain HTTP (local registries, tests).
	PlainHTTPRegistries bool
	// Logger receives the Helm SDK's logs. Default: discarded.
	Logger *slog.Logger
}

// Client runs Helm operations against managed clusters.
type Client struct {
	source *chartSource
	logger *slog.Logger
}

// New returns a Client keeping its downloads under cacheDir (created if missing).
func New(cacheDir string, opts Options) (*Client, error) {
	if cacheDir == "" {
		return nil, errors.New("helm: cache dir is empty")
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("helm: create cache dir: %w", err)
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Client{
		source: newChartSource(cacheDir, hc, opts.PlainHTTPRegistries),
		logger: logger,
	}, nil
}

// ValuesHash is a stable hash of values (key order does not matter, and values
// that went through a JSON round trip hash the same). Nil and empty hash the same.
func ValuesHash(values map[string]any) (string, error) {
	if values == nil {
		values = map[string]any{}
	}
	data, err := json.Marshal(values) // maps marshal with sorted keys
	if err != nil {
		return "", fmt.Errorf("hash values: %w", err)
	}
	sum := sha256.Sum256(data)
	// 40 hex digits: short enough for a label value.
	return hex.EncodeToString(sum[:20]), nil
}

// releaseError names the release and the chart in every Apply error.
func releaseError(hc libv1beta1.HelmChart, op string, err error) error {
	return fmt.Errorf("helm release %s/%s (chart %s %s from %s): %s: %w",
		hc.ReleaseNamespace, hc.ReleaseName, hc.ChartName, hc.ChartVersion, hc.RepositoryURL, op, err)
}

// Apply installs chart as a release in the cluster behind restConfig, or upgrades
// it when the deployed revision's chart version or values differ. values are the
// final (already rendered) chart values.
func (c *Client) Apply(ctx context.Context, restConfig *rest.Config, chart libv1beta1.HelmChart, values map[string]any) (ApplyResult, error) {
	return c.apply(ctx, restConfig, Desired{Chart: chart, Values: values}, false)
}

// Reapply is Apply without the unchanged shortcut: a deployed release is upgraded
// even when its chart version and values are those requested, and server-side
// apply takes back fields someone else changed. Drift repair uses it to restore
// deleted or modified objects of a release.
func (c *Client) Reapply(ctx context.Context, restConfig *rest.Config, chart libv1beta1.HelmChart, values map[string]any) (ApplyResult, error) {
	return c.apply(ctx, restConfig, Desired{Chart: chart, Values: values}, true)
}

func (c *Client) apply(ctx context.Context, restConfig *rest.Config, d Desired, force bool) (ApplyResult, error) {
	chart, values := d.Chart, d.Values
	if chart.ReleaseName == "" || chart.ReleaseNamespace == "" {
		return ApplyResult{}, releaseError(chart, "validate", errors.New("releaseName and releaseNamespace are required"))
	}
	ref, err := refFor(chart)
	if err != nil {
		return ApplyResult{}, releaseError(chart, "validate", err)
	}
	opts := chart.Options
	if opts == nil {
		opts = &libv1beta1.HelmOptions{}
	}
	hash, err := ValuesHash(values)
	if err != nil {
		return ApplyResult{}, releaseError(chart, "validate", err)
	}
	patchesHash, err := hashPatches(d.Patches)
	if err != nil {
		return ApplyResult{}, releaseError(chart, "validate", err)
	}

	cfg, getter, err := c.actionConfig(restConfig, chart.ReleaseNamespace)
	if err != nil {
		return ApplyResult{}, releaseError(chart, "connect", err)
	}
	last, err := lastRelease(cfg, chart.ReleaseName)
	if err != nil {
		return ApplyResult{}, releaseError(chart, "read release history", err)
	}

	if last != nil && c.recoverable(cfg, d, opts) {
		// Never deployed and failing again and again: the stale records go, and
		// the install starts afresh (installOptions.recoverAfterConsecutiveFailures).
		un := action.NewUninstall(cfg)
		un.IgnoreNotFound = true
		un.DisableHooks = true
		un.WaitStrategy = kube.HookOnlyStrategy
		un.Timeout = timeoutOf(opts)
		un.DeletionPropagation = "background"
		if _, err := un.Run(chart.ReleaseName); err != nil {
			return ApplyResult{}, releaseError(chart, fmt.Sprintf("remove the records of a release never deployed after %d consecutive failures", d.ConsecutiveFailures), err)
		}
		last = nil
	}

	if last != nil && last.Info != nil {
		status := last.Info.Status
		if status.IsPending() {
			return ApplyResult{}, releaseError(chart, "check release", fmt.Errorf("revision %d is %s: another operation is in progress", last.Version, status))
		}
		if !force && status == rcommon.StatusDeployed && unchanged(last, ref, hash, opts) && last.Labels[PatchesHashLabel] == patchesHash {
			if opts.RunTests && !testsPassed(last) {
				// The tests of this revision did not pass yet: run them again.
				if err := c.runTests(cfg, chart, opts); err != nil {
					return ApplyResult{}, err
				}
			}
			info, err := describe(getter, last)
			if err != nil {
				return ApplyResult{}, releaseError(chart, "read release", err)
			}
			return ApplyResult{Action: ActionUnchanged, Release: info}, nil
		}
	}

	ch, err := c.source.Load(ctx, ref, d.Access)
	if err != nil {
		return ApplyResult{}, releaseError(chart, "fetch chart", err)
	}
	labels := map[string]string{}
	maps.Copy(labels, opts.Labels)
	labels[ValuesHashLabel] = hash
	if patchesHash != "" {
		labels[PatchesHashLabel] = patchesHash
	}
	if values == nil {
		values = map[string]any{}
	}

	var (
		rel    ri.Releaser
		result Action
	)
	if last == nil || last.Info == nil || last.Info.Status == rcommon.StatusUninstalled {
		result = ActionInstalled
		in := newInstall(cfg, chart, opts, labels)
		if len(d.Patches) > 0 {
			in.PostRenderer = patchRenderer{patches: d.Patches}
			in.PostRenderStrategy = postRenderStrategy(opts, in.PostRenderStrategy)
		}
		rel, err = in.RunWithContext(ctx, ch, values)
		if err != nil {
			return ApplyResult{}, releaseError(chart, "install", err)
		}
	} else {
		result = ActionUpgraded
		up := newUpgrade(cfg, chart, opts, labels)
		if len(d.Patches) > 0 {
			up.PostRenderer = patchRenderer{patches: d.Patches}
			up.PostRenderStrategy = postRenderStrategy(opts, up.PostRenderStrategy)
		}
		if opts.UpgradeOptions.UpgradeCRDs && !opts.SkipCRDs {
			if err := applyCRDs(ctx, restConfig, ch); err != nil {
				return ApplyResult{}, releaseError(chart, "upgrade CRDs", err)
			}
		}
		if force && !opts.UpgradeOptions.Force {
			up.ForceConflicts = true // fields changed by someone else come back to the release
		}
		rel, err = up.RunWithContext(ctx, chart.ReleaseName, ch, values)
		if err != nil {
			return ApplyResult{}, releaseError(chart, "upgrade", err)
		}
	}
	if opts.RunTests {
		if err := c.runTests(cfg, chart, opts); err != nil {
			return ApplyResult{}, err
		}
	}
	r, err := toV1(rel)
	if err != nil {
		return ApplyResult{}, releaseError(chart, "read release", err)
	}
	info, err := describe(getter, r)
	if err != nil {
		return ApplyResult{}, releaseError(chart, "read release", err)
	}
	return ApplyResult{Action: result, Release: info}, nil
}

// unchanged says whether the deployed release last already is what Apply would deploy.
func unchanged(last *releasev1.Release, ref chartRef, hash string, opts *libv1beta1.HelmOptions) bool {
	md := chartMetadata(last.Chart)
	if md == nil || md.Name != ref.chart || md.Version != ref.version {
		return false
	}
	up := opts.UpgradeOptions
	if up.ReuseValues || up.ResetThenReuseValues {
		// The stored values are a merge; only the label tells what was asked for.
		return last.Labels[ValuesHashLabel] == hash
	}
	stored, err := ValuesHash(last.Config)
	return err == nil && stored == hash
}

func chartMetadata(ch *chartv2.Chart) *chartv2.Metadata {
	if ch == nil {
		return nil
	}
	return ch.Metadata
}

func timeoutOf(opts *libv1beta1.HelmOptions) time.Duration {
	if opts.Timeout != nil && opts.Timeout.Duration > 0 {
		return opts.Timeout.Duration
	}
	return DefaultTimeout
}

// waitStrategy maps the wait option: without it Helm only waits for hooks.
func waitStrategy(opts *libv1beta1.HelmOptions) kube.WaitStrategy {
	if opts.Wait || opts.WaitForJobs {
		return kube.StatusWatcherStrategy
	}
	return kube.HookOnlyStrategy
}

func newInstall(cfg *action.Configuration, hc libv1beta1.HelmChart, opts *libv1beta1.HelmOptions, labels map[string]string) *action.Install {
	in := action.NewInstall(cfg)
	setSharedReleaseOptions(opts, opts.InstallOptions.DisableHooks, opts.InstallOptions.TakeOwnership, labels, sharedReleaseFields{
		&in.Timeout, &in.WaitStrategy, &in.WaitForJobs, &in.RollbackOnFailure, &in.SkipCRDs, &in.DisableHooks,
		&in.TakeOwnership, &in.SkipSchemaValidation, &in.DisableOpenAPIValidation, &in.Description, &in.Labels,
	})
	in.ReleaseName = hc.ReleaseName
	in.Namespace = hc.ReleaseNamespace
	in.CreateNamespace = opts.InstallOptions.CreateNamespaceOrDefault()
	in.Replace = opts.InstallOptions.ReplaceOrDefault()
	return in
}

// sharedReleaseFields points at the fields that action.Install and action.Upgrade
// both have and both fill from HelmOptions the same way.
type sharedReleaseFields struct {
	timeout                  *time.Duration
	waitStrategy             *kube.WaitStrategy
	waitForJobs              *bool
	rollbackOnFailure        *bool
	skipCRDs                 *bool
	disableHooks             *bool
	takeOwnership            *bool
	skipSchemaValidation     *bool
	disableOpenAPIValidation *bool
	description              *string
	labels                   *map[string]string
}

// setSharedReleaseOptions is the one mapping of the HelmOptions that install and
// upgrade read alike: timeout, wait, atomic, CRDs, hooks (disabled by the general
// or the action's own option), ownership, validation, description and labels.
func setSharedReleaseOptions(opts *libv1beta1.HelmOptions, actionDisableHooks, takeOwnership bool, labels map[string]string, f sharedReleaseFields) {
	*f.timeout = timeoutOf(opts)
	*f.waitStrategy = waitStrategy(opts)
	*f.waitForJobs = opts.WaitForJobs
	*f.rollbackOnFailure = opts.Atomic
	*f.skipCRDs = opts.SkipCRDs
	*f.disableHooks = opts.DisableHooks || actionDisableHooks
	*f.takeOwnership = takeOwnership
	*f.skipSchemaValidation = opts.SkipSchemaValidation
	*f.disableOpenAPIValidation = opts.DisableOpenAPIValidation
	*f.description = opts.Description
	*f.labels = labels
}

func newUpgrade(cfg *action.Configuration, hc libv1beta1.HelmChart, opts *libv1beta1.HelmOptions, labels map[string]string) *action.Upgrade {
	up := action.NewUpgrade(cfg)
	setSharedReleaseOptions(opts, opts.UpgradeOptions.DisableHooks, opts.UpgradeOptions.TakeOwnership, labels, sharedReleaseFields{
		&up.Timeout, &up.WaitStrategy, &up.WaitForJobs, &up.RollbackOnFailure, &up.SkipCRDs, &up.DisableHooks,
		&up.TakeOwnership, &up.SkipSchemaValidation, &up.DisableOpenAPIValidation, &up.Description, &up.Labels,
	})
	// Adopting an object means taking over the fields its creator set too.
	up.ForceConflicts = opts.UpgradeOptions.TakeOwnership
	up.Namespace = hc.ReleaseNamespace
	uo := opts.UpgradeOptions
	up.MaxHistory = uo.MaxHistoryOrDefault()
	up.ReuseValues = uo.ReuseValues
	up.ResetThenReuseValues = uo.ResetThenReuseValues
	// Unless values are explicitly reused, the given values are the whole truth:
	// Helm would otherwise silently keep the old values when the new set is empty.
	up.ResetValues = uo.ResetValues || (!uo.ReuseValues && !uo.ResetThenReuseValues)
	up.CleanupOnFail = uo.CleanupOnFail
	up.SubNotes = uo.SubNotes
	if uo.Force {
		// Helm 4 refuses to replace objects under server-side apply, so a forced
		// upgrade goes through client-side apply with replacement, like Helm 3's --force.
		up.ForceReplace = true
		up.ServerSideApply = "false"
	}
	return up
}

// UninstallOptions tune Uninstall.
type UninstallOptions struct {
	KeepHistory bool
	// DeletionPropagation is background (default), orphan or foreground.
	DeletionPropagation string
	DisableHooks        bool
	Timeout             time.Duration
}

// Uninstall removes the release; a missing release is not an error. With
// keepHistory the release record stays (status uninstalled).
func (c *Client) Uninstall(ctx context.Context, restConfig *rest.Config, releaseName, namespace string, keepHistory bool) error {
	return c.UninstallWithOptions(ctx, restConfig, releaseName, namespace, UninstallOptions{KeepHistory: keepHistory})
}

// UninstallChart removes the release of chart honouring its uninstall options.
func (c *Client) UninstallChart(ctx context.Context, restConfig *rest.Config, chart libv1beta1.HelmChart) error {
	uo := UninstallOptions{}
	if o := chart.Options; o != nil {
		uo.KeepHistory = o.UninstallOptions.KeepHistory
		uo.DeletionPropagation = o.UninstallOptions.DeletionPropagation
		uo.DisableHooks = o.DisableHooks || o.UninstallOptions.DisableHooks
		uo.Timeout = timeoutOf(o)
	}
	return c.UninstallWithOptions(ctx, restConfig, chart.ReleaseName, chart.ReleaseNamespace, uo)
}

// UninstallWithOptions is Uninstall with every option.
func (c *Client) UninstallWithOptions(ctx context.Context, restConfig *rest.Config, releaseName, namespace string, opts UninstallOptions) error {
	fail := releaseFailure(namespace, releaseName, "uninstall: ")
	cfg, _, err := c.releaseConfig(ctx, restConfig, namespace)
	if err != nil {
		return fail(err)
	}
	last, err := lastRelease(cfg, releaseName)
	if err != nil {
		return fail(err)
	}
	if last == nil {
		return nil
	}
	if last.Info != nil && last.Info.Status == rcommon.StatusUninstalled && opts.KeepHistory {
		return nil // already uninstalled, history kept
	}
	un := action.NewUninstall(cfg)
	un.KeepHistory = opts.KeepHistory
	un.IgnoreNotFound = true
	un.DisableHooks = opts.DisableHooks
	un.WaitStrategy = kube.HookOnlyStrategy
	un.Timeout = opts.Timeout
	if un.Timeout <= 0 {
		un.Timeout = DefaultTimeout
	}
	un.DeletionPropagation = opts.DeletionPropagation
	if un.DeletionPropagation == "" {
		un.DeletionPropagation = "background"
	}
	if _, err := un.Run(releaseName); err != nil {
		return fail(err)
	}
	return nil
}

// Release reads the latest revision of a release (whatever its status). It
// returns an error wrapping ErrReleaseNotFound when there is none.
func (c *Client) Release(ctx context.Context, restConfig *rest.Config, name, namespace string) (*Release, error) {
	fail := releaseFailure(namespace, name, "")
	cfg, getter, err := c.releaseConfig(ctx, restConfig, namespace)
	if err != nil {
		return nil, fail(err)
	}
	last, err := lastRelease(cfg, name)
	if err != nil {
		return nil, fail(err)
	}
	if last == nil {
		return nil, fail(ErrReleaseNotFound)
	}
	info, err := describe(getter, last)
	if err != nil {
		return nil, fail(err)
	}
	return info, nil
}

// History lists the recorded revisions of a release, oldest first.
func (c *Client) History(ctx context.Context, restConfig *rest.Config, name, namespace string) ([]*Release, error) {
	fail := releaseFailure(namespace, name, "history: ")
	cfg, _, err := c.releaseConfig(ctx, restConfig, namespace)
	if err != nil {
		return nil, fail(err)
	}
	hist, err := cfg.Releases.History(name)
	if err != nil {
		if errors.Is(err, driver.ErrReleaseNotFound) {
			return nil, nil
		}
		return nil, fail(err)
	}
	out := make([]*Release, 0, len(hist))
	for _, h := range hist {
		r, err := toV1(h)
		if err != nil {
			return nil, fail(err)
		}
		info, err := summarize(r)
		if err != nil {
			return nil, fail(err)
		}
		out = append(out, info)
	}
	sortByRevision(out)
	return out, nil
}

// releaseFailure wraps an error of an action on release namespace/name;
// step ("uninstall: ", "history: " or "") names the action.
func releaseFailure(namespace, name, step string) func(error) error {
	return func(err error) error {
		return fmt.Errorf("helm release %s/%s: %s%w", namespace, name, step, err)
	}
}

// releaseConfig is actionConfig for an action on a release, once ctx is
// known to be live.
func (c *Client) releaseConfig(ctx context.Context, restConfig *rest.Config, namespace string) (*action.Configuration, *RESTClientGetter, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	return c.actionConfig(restConfig, namespace)
}

func sortByRevision(rs []*Release) {
	slices.SortFunc(rs, func(a, b *Release) int { return cmp.Compare(a.Revision, b.Revision) })
}

// actionConfig is a Helm configuration for one operation in one cluster, storing
// releases as Secrets in namespace.
func (c *Client) actionConfig(restConfig *rest.Config, namespace string) (*action.Configuration, *RESTClientGetter, error) {
	getter, err := NewRESTClientGetter(restConfig, namespace)
	if err != nil {
		return nil, nil, err
	}
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(c.logger.Handler()))
	if err := cfg.Init(getter, namespace, "secret"); err != nil {
		return nil, nil, fmt.Errorf("init helm configuration: %w", err)
	}
	if kc, ok := cfg.KubeClient.(*kube.Client); ok {
		kc.Namespace = namespace
	}
	return cfg, getter, nil
}

// lastRelease is the highest revision of name, nil when there is none.
func lastRelease(cfg *action.Configuration, name string) (*releasev1.Release, error) {
	hist, err := cfg.Releases.History(name)
	if err != nil {
		if errors.Is(err, driver.ErrReleaseNotFound) {
			return nil, nil
		}
		return nil, err
	}
	var last *releasev1.Release
	for _, h := range hist {
		r, err := toV1(h)
		if err != nil {
			return nil, err
		}
		if last == nil || r.Version > last.Version {
			last = r
		}
	}
	return last, nil
}

func toV1(r ri.Releaser) (*releasev1.Release, error) {
	switch v := r.(type) {
	case *releasev1.Release:
		if v == nil {
			return nil, errors.New("empty release")
		}
		return v, nil
	case releasev1.Release:
		return &v, nil
	default:
		return nil, fmt.Errorf("unsupported release type %T", r)
	}
}

// summarize converts a release without touching the cluster.
func summarize(r *releasev1.Release) (*Release, error) {
	hash, err := ValuesHash(r.Config)
	if err != nil {
		return nil, err
	}
	info := &Release{
		Name:                r.Name,
		Namespace:           r.Namespace,
		Revision:            r.Version,
		Values:              r.Config,
		ValuesHash:          hash,
		RequestedValuesHash: r.Labels[ValuesHashLabel],
		Labels:              r.Labels,
		Manifest:            r.Manifest,
	}
	if r.Info != nil {
		info.Status = r.Info.Status.String()
		info.Description = r.Info.Description
	}
	if md := chartMetadata(r.Chart); md != nil {
		info.ChartName = md.Name
		info.ChartVersion = md.Version
		info.AppVersion = md.AppVersion
	}
	return info, nil
}

// describe is summarize plus the manifest's objects, namespaced with the help of
// the cluster's discovery.
func describe(getter *RESTClientGetter, r *releasev1.Release) (*Release, error) {
	info, err := summarize(r)
	if err != nil {
		return nil, err
	}
	objs, err := manifestObjects(r.Manifest, r.Namespace, getter.mapper)
	if err != nil {
		return nil, fmt.Errorf("parse manifest of revision %d: %w", r.Version, err)
	}
	info.Objects = objs
	return info, nil
}
