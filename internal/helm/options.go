package helm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"helm.sh/helm/v4/pkg/action"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// The HelmOptions beyond Helm's own install and upgrade flags: the post-render
// strategy, CRD upgrades, chart tests and recovery of releases never deployed.

// postRenderStrategy is options.postRenderStrategy, def when unset.
func postRenderStrategy(opts *libv1beta1.HelmOptions, def action.PostRenderStrategy) action.PostRenderStrategy {
	if opts.PostRenderStrategy == "" {
		return def
	}
	return action.PostRenderStrategy(opts.PostRenderStrategy)
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// crdFieldManager owns the fields of the CRDs upgradeCRDs applies.
const crdFieldManager = "tugboat-helm-crds"

// applyCRDs server-side applies the CRDs of the chart's crds/ folders (its
// subcharts' included) before an upgrade: Helm installs them on the first
// install only.
func applyCRDs(ctx context.Context, restConfig *rest.Config, ch *chartv2.Chart) error {
	crds := ch.CRDObjects()
	if len(crds) == 0 {
		return nil
	}
	dc, err := dynamic.NewForConfig(restConfig)
	if err != nil {
		return err
	}
	for _, crd := range crds {
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(crd.File.Data), 4096)
		for {
			obj := &unstructured.Unstructured{}
			if err := dec.Decode(&obj.Object); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return fmt.Errorf("%s: %w", crd.Filename, err)
			}
			if len(obj.Object) == 0 {
				continue
			}
			if obj.GetKind() != "CustomResourceDefinition" {
				return fmt.Errorf("%s: %s %s is not a CustomResourceDefinition", crd.Filename, obj.GetKind(), obj.GetName())
			}
			data, err := obj.MarshalJSON()
			if err != nil {
				return fmt.Errorf("%s: %w", crd.Filename, err)
			}
			force := true
			if _, err := dc.Resource(crdGVR).Patch(ctx, obj.GetName(), types.ApplyPatchType, data,
				metav1PatchOptions(crdFieldManager, &force)); err != nil {
				return fmt.Errorf("apply CRD %s (%s): %w", obj.GetName(), crd.Filename, err)
			}
		}
	}
	return nil
}

// runTests runs the test hooks of the release's last revision, as helm test
// does, and fails naming every test that did not succeed. Helm records each
// test's last run in the release, which testsPassed reads.
func (c *Client) runTests(cfg *action.Configuration, hc libv1beta1.HelmChart, opts *libv1beta1.HelmOptions) error {
	rt := action.NewReleaseTesting(cfg)
	rt.Namespace = hc.ReleaseNamespace
	rt.Timeout = timeoutOf(opts)
	rel, shutdown, err := rt.Run(hc.ReleaseName)
	if shutdown != nil {
		if serr := shutdown(); serr != nil && err == nil {
			err = serr
		}
	}
	if err != nil {
		failed := failedTests(rel)
		if len(failed) > 0 {
			return releaseError(hc, "run tests", fmt.Errorf("test %s failed: %w", strings.Join(failed, ", "), err))
		}
		return releaseError(hc, "run tests", err)
	}
	return nil
}

// testHooks are the test hooks of a release.
func testHooks(r *releasev1.Release) []*releasev1.Hook {
	var out []*releasev1.Hook
	for _, h := range r.Hooks {
		for _, e := range h.Events {
			if e == releasev1.HookTest {
				out = append(out, h)
				break
			}
		}
	}
	return out
}

// testsPassed reports whether every test hook of r last ran and succeeded.
func testsPassed(r *releasev1.Release) bool {
	for _, h := range testHooks(r) {
		if h.LastRun.Phase != releasev1.HookPhaseSucceeded {
			return false
		}
	}
	return true
}

func failedTests(rel any) []string {
	r, ok := rel.(*releasev1.Release)
	if !ok || r == nil {
		return nil
	}
	var out []string
	for _, h := range testHooks(r) {
		if h.LastRun.Phase == releasev1.HookPhaseFailed || h.LastRun.Phase == releasev1.HookPhaseUnknown {
			out = append(out, h.Kind+" "+h.Name)
		}
	}
	return out
}

// recoverable says whether the records of the release should be removed before
// installing: it was never deployed (no revision deployed or superseded) and
// the feature failed at least installOptions.recoverAfterConsecutiveFailures
// times in a row.
func (c *Client) recoverable(cfg *action.Configuration, d Desired, opts *libv1beta1.HelmOptions) bool {
	limit := opts.InstallOptions.RecoverAfterConsecutiveFailuresOrDefault()
	if limit <= 0 || d.ConsecutiveFailures < limit {
		return false
	}
	hist, err := cfg.Releases.History(d.Chart.ReleaseName)
	if err != nil || len(hist) == 0 {
		return false
	}
	for _, h := range hist {
		r, err := toV1(h)
		if err != nil || r.Info == nil {
			return false
		}
		switch r.Info.Status {
		case rcommon.StatusDeployed, rcommon.StatusSuperseded:
			return false
		}
	}
	return true
}

func metav1PatchOptions(manager string, force *bool) metav1.PatchOptions {
	return metav1.PatchOptions{FieldManager: manager, Force: force}
}
