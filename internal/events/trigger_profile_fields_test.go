package events_test

import (
	"testing"
)

// The deployment fields an EventTrigger shares with profiles reach the
// ClusterProfiles it generates: maxUpdate, maxConsecutiveFailures, reloader,
// patchesFrom (its name rendered with the event), preDeployChecks,
// preDeleteChecks, postDeleteChecks and the
// Helm and Kustomize options (here skipSchemaValidation, passCredentialsAll,
// installOptions.takeOwnership, upgradeOptions.upgradeCRDs, a kustomizationRef's
// tier and skipNamespaceCreation, its path rendered with the event). The
// generated profile targets a destination no cluster matches, so nothing is
// deployed.
func TestTriggerProfileFieldsPassThrough(t *testing.T) {
	const name = "events-profile-fields"
	applyYAML(t, []byte(`
`+configMapEventSource(name)+`apiVersion: lib.projectsveltos.io/v1beta1
kind: EventTrigger
metadata: {name: `+name+`}
spec:
  sourceClusterSelector: {matchLabels: {`+name+`: source}}
  destinationClusterSelector: {matchLabels: {`+name+`: nowhere}}
  eventSourceName: `+name+`
  maxUpdate: 1
  maxConsecutiveFailures: 3
  reloader: true
  patchesFrom:
  - {kind: ConfigMap, namespace: default, name: "{{ .Cluster.metadata.name }}-patches", optional: true}
  preDeployChecks:
  - {name: crds, featureID: Helm, group: apiextensions.k8s.io, version: v1, kind: CustomResourceDefinition}
  preDeleteChecks:
  - {name: drained, featureID: Resources, group: "", version: v1, kind: Namespace, namespace: "", evaluateCEL: [{name: ok, rule: "true"}]}
  postDeleteChecks:
  - {name: gone, featureID: Resources, group: "", version: v1, kind: Namespace}
  helmCharts:
  - repositoryURL: https://charts.example.com
    repositoryName: example
    chartName: example/app
    chartVersion: 1.0.0
    releaseName: app
    releaseNamespace: apps
    options:
      skipSchemaValidation: true
      passCredentialsAll: true
      installOptions: {takeOwnership: true}
      upgradeOptions: {upgradeCRDs: true}
  kustomizationRefs:
  - kind: GitRepository
    namespace: flux-system
    name: platform
    path: "overlays/{{ .Cluster.metadata.name }}"
    tier: 20
    skipNamespaceCreation: true
    components: [../../components/monitoring]
    force: true
  templateResourceRefs:
  - identifier: Settings
    resource: {apiVersion: v1, kind: ConfigMap, namespace: default, name: settings}
    ignoreStatusChanges: true
    watchFields: [data.region]
`))
	createSourceConfigMap(t, clusterClient(t, "services"), name, name, "x")
	setLabels(t, "services", map[string]string{name: "source"})
	t.Cleanup(func() { setLabels(t, "services", map[string]string{name: ""}) })

	p := waitOneProfile(t, name)
	spec := p.Spec
	if spec.MaxUpdate == nil || spec.MaxUpdate.IntValue() != 1 {
		t.Errorf("maxUpdate = %v, want 1", spec.MaxUpdate)
	}
	if spec.MaxConsecutiveFailures == nil || *spec.MaxConsecutiveFailures != 3 {
		t.Errorf("maxConsecutiveFailures = %v, want 3", spec.MaxConsecutiveFailures)
	}
	if !spec.Reloader {
		t.Error("reloader not carried")
	}
	if len(spec.PatchesFrom) != 1 || spec.PatchesFrom[0].Name != "services-patches" || !spec.PatchesFrom[0].Optional {
		t.Errorf("patchesFrom = %+v, want the name rendered for services", spec.PatchesFrom)
	}
	if len(spec.PreDeployChecks) != 1 || spec.PreDeployChecks[0].Name != "crds" ||
		len(spec.PreDeleteChecks) != 1 || spec.PreDeleteChecks[0].EvaluateCEL[0].Rule != "true" ||
		len(spec.PostDeleteChecks) != 1 || spec.PostDeleteChecks[0].Name != "gone" {
		t.Errorf("checks not carried: pre-deploy %+v, pre-delete %+v, post-delete %+v", spec.PreDeployChecks, spec.PreDeleteChecks, spec.PostDeleteChecks)
	}
	if len(spec.HelmCharts) != 1 || spec.HelmCharts[0].Options == nil {
		t.Fatalf("helmCharts = %+v", spec.HelmCharts)
	}
	o := spec.HelmCharts[0].Options
	if !o.SkipSchemaValidation || !o.PassCredentialsAll || !o.InstallOptions.TakeOwnership || !o.UpgradeOptions.UpgradeCRDs {
		t.Errorf("helm options not carried: %+v", o)
	}
	if len(spec.KustomizationRefs) != 1 {
		t.Fatalf("kustomizationRefs = %+v", spec.KustomizationRefs)
	}
	k := spec.KustomizationRefs[0]
	if k.Path != "overlays/services" || k.Tier != 20 || !k.SkipNamespaceCreation || !k.Force ||
		len(k.Components) != 1 || k.Components[0] != "../../components/monitoring" {
		t.Errorf("kustomizationRef = %+v, want path overlays/services, tier 20, skipNamespaceCreation, force, components", k)
	}
	if len(spec.TemplateResourceRefs) != 1 || !spec.TemplateResourceRefs[0].IgnoreStatusChanges ||
		len(spec.TemplateResourceRefs[0].WatchFields) != 1 || spec.TemplateResourceRefs[0].WatchFields[0] != "data.region" {
		t.Errorf("templateResourceRefs = %+v, want ignoreStatusChanges and watchFields carried", spec.TemplateResourceRefs)
	}
	if spec.ClusterSelector.MatchLabels[name] != "nowhere" {
		t.Errorf("clusterSelector = %+v", spec.ClusterSelector)
	}
}
