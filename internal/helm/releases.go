package helm

import (
	"cmp"
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/deployer"
)

// The release engine: what the helmCharts of one profile do in one cluster, in
// the shape of internal/deployer — a Request in, a Result out, no state kept
// between calls. Arbitration between profiles follows deployer.TakesOver, the
// same tier rule as for objects. Controllers call Deploy and Withdraw and record
// the Result; the engine never calls them.

// Outcomes of Deploy besides those of Apply.
const (
	// ActionUninstalled means the release was uninstalled (an Uninstall entry, or
	// a release no longer listed).
	ActionUninstalled Action = "Uninstalled"
	// ActionConflict means another profile keeps the release: nothing was done.
	ActionConflict Action = "Conflict"
)

// ReleaseKey names a release in a cluster.
type ReleaseKey struct {
	Namespace, Name string
}

// String is "namespace/name".
func (k ReleaseKey) String() string { return k.Namespace + "/" + k.Name }

// KeyOf is the release of a helmCharts entry.
func KeyOf(chart libv1beta1.HelmChart) ReleaseKey {
	return ReleaseKey{Namespace: chart.ReleaseNamespace, Name: chart.ReleaseName}
}

// Desired is one helmCharts entry with its final values.
type Desired struct {
	Chart libv1beta1.HelmChart
	// Values are the rendered chart values (unused by an Uninstall entry).
	Values map[string]any
	// Patches apply to every object the chart renders (a post-renderer), in
	// order, as the profile's patches apply to its other objects.
	Patches []libv1beta1.Patch
	// Access holds the credentials, trust and keyring of the chart's download
	// (ResolveAccess).
	Access Access
	// ConsecutiveFailures is how many times in a row the feature failed before
	// this attempt (installOptions.recoverAfterConsecutiveFailures).
	ConsecutiveFailures int
}

// Holder is another profile managing a release in the same cluster.
type Holder struct {
	// Owner names the profile ("ClusterProfile name"), in conflict messages.
	Owner string
	// Tier is the holder's tier; 0 means deployer.DefaultTier.
	Tier int32
	// Summary is the holder's ClusterSummary. When a request takes the release
	// over, the caller brings it back so that it reports the conflict.
	Summary types.NamespacedName
}

// Request is everything one Deploy needs: the releases one profile wants in one
// cluster, and who else holds releases there.
type Request struct {
	// Tier is the requesting profile's tier; 0 means deployer.DefaultTier.
	Tier int32
	// Releases are installed, upgraded or uninstalled in order.
	Releases []Desired
	// Previous are the releases this profile managed so far. Those no longer
	// listed in Releases are uninstalled once the listed ones succeeded.
	Previous []ReleaseKey
	// Holders are the releases other profiles manage in the cluster.
	Holders map[ReleaseKey]Holder
	// Reapply lists releases to upgrade even when their chart version and values
	// are unchanged (drift repair: objects someone else changed come back).
	Reapply map[ReleaseKey]bool

	ContinueOnConflict bool
	ContinueOnError    bool
	// DryRun changes nothing: Deploy reads the releases and fills Result.Report.
	DryRun bool
}

// Outcome is what Deploy did to one release.
type Outcome struct {
	Release ReleaseKey
	// Action is ActionInstalled, ActionUpgraded or ActionUnchanged for a release
	// this profile now manages; ActionUninstalled or ActionConflict otherwise.
	Action Action
	// ValuesHash is ValuesHash of the values deployed (managed releases).
	ValuesHash string
	// Deployed is the release as deployed (managed releases); drift detection
	// watches the kinds of its objects.
	Deployed *Release
	// Conflict says who keeps the release (ActionConflict).
	Conflict string
}

// Managed reports whether the profile manages the release after Deploy.
func (o Outcome) Managed() bool {
	return o.Action == ActionInstalled || o.Action == ActionUpgraded || o.Action == ActionUnchanged
}

// Result is what a Deploy did (or, for a dry run, would do).
type Result struct {
	// Releases are the outcomes, in request order, then the releases no longer
	// listed. On error the releases not reached are missing.
	Releases []Outcome
	// Preempted are the holders of releases this request took over.
	Preempted []Holder
	// Report says, for a dry run, what would happen to each release.
	Report []configv1beta1.ResourceReport
}

// keptBy returns the holder of a release when it keeps it against this request.
func (req *Request) keptBy(key ReleaseKey) (Holder, bool) {
	h, held := req.Holders[key]
	return h, held && !deployer.TakesOver(req.Tier, h.Tier)
}

// Lost lists the releases the request wants installed that another profile keeps.
// It reads no cluster: a caller can tell, before doing anything, that a release
// it managed was taken over.
func (req *Request) Lost() []ReleaseKey {
	var out []ReleaseKey
	for _, d := range req.Releases {
		if d.Chart.HelmChartAction == libv1beta1.HelmChartActionUninstall {
			continue
		}
		if _, kept := req.keptBy(KeyOf(d.Chart)); kept {
			out = append(out, KeyOf(d.Chart))
		}
	}
	return out
}

// orphans are the releases of Previous no longer listed.
func (req *Request) orphans() []ReleaseKey {
	listed := map[ReleaseKey]bool{}
	for _, d := range req.Releases {
		listed[KeyOf(d.Chart)] = true
	}
	var out []ReleaseKey
	for _, key := range req.Previous {
		if !listed[key] {
			out = append(out, key)
		}
	}
	return out
}

// Deploy brings the releases of req about in the cluster behind restConfig:
// every listed release is installed, upgraded (or left alone when unchanged) or
// uninstalled in order; a release another profile keeps is a conflict; when
// every listed release succeeded (or ContinueOnError), the releases of
// req.Previous no longer listed are uninstalled. The first error (or conflict,
// unless ContinueOnConflict) stops the rest unless ContinueOnError; the returned
// error joins all errors, each naming its release. With req.DryRun nothing
// changes and Result.Report says what would.
func (c *Client) Deploy(ctx context.Context, restConfig *rest.Config, req Request) (Result, error) {
	if req.DryRun {
		return c.report(ctx, restConfig, req)
	}
	var res Result
	steps := make([]func() error, 0, len(req.Releases))
	for _, d := range req.Releases {
		steps = append(steps, func() error { return c.deployOne(ctx, restConfig, &req, d, &res) })
	}
	errs := runSteps(steps, req.ContinueOnError)
	if len(errs) == 0 || req.ContinueOnError {
		steps = steps[:0]
		for _, key := range req.orphans() {
			steps = append(steps, func() error {
				if err := c.Uninstall(ctx, restConfig, key.Name, key.Namespace, false); err != nil {
					return err
				}
				res.Releases = append(res.Releases, Outcome{Release: key, Action: ActionUninstalled})
				return nil
			})
		}
		errs = append(errs, runSteps(steps, req.ContinueOnError)...)
	}
	return res, errors.Join(errs...)
}

// runSteps runs steps in order and returns their errors; the first error stops
// the rest unless continueOnError.
func runSteps(steps []func() error, continueOnError bool) []error {
	var errs []error
	for _, step := range steps {
		if err := step(); err != nil {
			errs = append(errs, err)
			if !continueOnError {
				break
			}
		}
	}
	return errs
}

// deployOne uninstalls, arbitrates or applies one listed release.
func (c *Client) deployOne(ctx context.Context, restConfig *rest.Config, req *Request, d Desired, res *Result) error {
	key := KeyOf(d.Chart)
	if d.Chart.HelmChartAction == libv1beta1.HelmChartActionUninstall {
		if err := c.UninstallChart(ctx, restConfig, d.Chart); err != nil {
			return err
		}
		res.Releases = append(res.Releases, Outcome{Release: key, Action: ActionUninstalled})
		return nil
	}
	if h, kept := req.keptBy(key); kept {
		msg := fmt.Sprintf("release %s is managed by %s (tier %d); this profile has tier %d",
			key, h.Owner, deployer.TierOrDefault(h.Tier), deployer.TierOrDefault(req.Tier))
		res.Releases = append(res.Releases, Outcome{Release: key, Action: ActionConflict, Conflict: msg})
		if req.ContinueOnConflict {
			return nil
		}
		return &deployer.ConflictError{Conflict: deployer.Conflict{Message: msg}}
	}
	// Reapply (drift repair): same chart and values, an upgrade is forced to
	// restore the objects.
	applied, err := c.apply(ctx, restConfig, d, req.Reapply[key])
	if err != nil {
		return err
	}
	if h, held := req.Holders[key]; held {
		res.Preempted = append(res.Preempted, h) // a lower tier took the release over
	}
	vh, err := ValuesHash(d.Values)
	if err != nil {
		return releaseError(d.Chart, "hash values", err)
	}
	res.Releases = append(res.Releases, Outcome{Release: key, Action: applied.Action, ValuesHash: vh, Deployed: applied.Release})
	return nil
}

// report fills Result.Report with what Deploy would do to each listed release —
// install, upgrade, uninstall or nothing — reading the releases only.
func (c *Client) report(ctx context.Context, restConfig *rest.Config, req Request) (Result, error) {
	var res Result
	for _, d := range req.Releases {
		hc := d.Chart
		rr := configv1beta1.ResourceReport{Resource: fmt.Sprintf("helm release %s/%s (chart %s %s)", hc.ReleaseNamespace, hc.ReleaseName, hc.ChartName, hc.ChartVersion)}
		rel, err := c.Release(ctx, restConfig, hc.ReleaseName, hc.ReleaseNamespace)
		switch {
		case errors.Is(err, ErrReleaseNotFound):
			rr.Action = configv1beta1.ReportActionCreate
			if hc.HelmChartAction == libv1beta1.HelmChartActionUninstall {
				rr.Action, rr.Message = configv1beta1.ReportActionNoAction, "not installed"
			}
		case err != nil:
			return res, err
		case hc.HelmChartAction == libv1beta1.HelmChartActionUninstall:
			rr.Action = configv1beta1.ReportActionDelete
		case rel.ChartVersion != hc.ChartVersion:
			rr.Action, rr.Message = configv1beta1.ReportActionUpdate, fmt.Sprintf("chart version %s -> %s", rel.ChartVersion, hc.ChartVersion)
		default:
			vh, err := ValuesHash(d.Values)
			if err != nil {
				return res, releaseError(hc, "hash values", err)
			}
			rr.Action = configv1beta1.ReportActionNoAction
			if vh != cmp.Or(rel.RequestedValuesHash, rel.ValuesHash) {
				rr.Action, rr.Message = configv1beta1.ReportActionUpdate, "values changed"
			}
		}
		res.Report = append(res.Report, rr)
	}
	return res, nil
}

// Withdraw uninstalls releases a profile managed (its summary is deleted). A
// release still listed in charts is uninstalled with that entry's options.
// Every release is tried; the error joins the failures.
func (c *Client) Withdraw(ctx context.Context, restConfig *rest.Config, charts []libv1beta1.HelmChart, releases []ReleaseKey) error {
	listed := map[ReleaseKey]libv1beta1.HelmChart{}
	for _, hc := range charts {
		listed[KeyOf(hc)] = hc
	}
	var errs []error
	for _, key := range releases {
		if hc, ok := listed[key]; ok {
			errs = append(errs, c.UninstallChart(ctx, restConfig, hc))
		} else {
			errs = append(errs, c.Uninstall(ctx, restConfig, key.Name, key.Namespace, false))
		}
	}
	return errors.Join(errs...)
}

// Kinds are the kinds of the release's objects, without duplicates.
func (r *Release) Kinds() []schema.GroupVersionKind {
	seen := map[schema.GroupVersionKind]bool{}
	var out []schema.GroupVersionKind
	for _, o := range r.Objects {
		gvk := o.GroupVersionKind()
		if gvk.Kind == "" || seen[gvk] {
			continue
		}
		seen[gvk] = true
		out = append(out, gvk)
	}
	return out
}
