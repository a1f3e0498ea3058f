package crd_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/config/crd"
	"github.com/tugboat-dev/tugboat/internal/templating"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) {
	os.Exit(testenv.Main(m, testenv.Options{Clusters: []string{"mgmt"}, InstallCRDs: true}, &env))
}

func newClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.New(env.Management().Config, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Every CRD of the build installs and is served (Start already waited for Established).
func TestAllCRDsInstall(t *testing.T) {
	crds, err := crd.All()
	if err != nil {
		t.Fatal(err)
	}
	if len(crds) < 10 {
		t.Fatalf("only %d CRDs embedded", len(crds))
	}
	c := newClient(t)
	for _, d := range crds {
		list := &unstructured.UnstructuredList{}
		list.SetAPIVersion(d.Spec.Group + "/" + d.Spec.Versions[0].Name)
		list.SetKind(d.Spec.Names.ListKind)
		if err := c.List(context.Background(), list); err != nil {
			t.Errorf("listing %s: %v", d.Name, err)
		}
	}
}

// The tutorial's manifests are accepted by the API server exactly as published.
func TestTutorialManifestsApplyUnchanged(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "dbaas")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) != 4 {
		t.Fatalf("expected the 4 tutorial manifests in %s, found %v (%v)", dir, files, err)
	}
	sort.Strings(files)
	c := newClient(t)
	for _, f := range files {
		for i, obj := range readObjects(t, f) {
			if err := c.Create(context.Background(), obj); err != nil {
				t.Errorf("%s document %d (%s %s): %v", filepath.Base(f), i, obj.GetKind(), obj.GetName(), err)
			}
		}
	}
}

// Invalid manifests are refused by the API server with its validation message.
func TestInvalidManifestsAreRejected(t *testing.T) {
	c := newClient(t)
	for _, tc := range []struct {
		name, manifest, want string
	}{
		{"bad syncMode enum", `
apiVersion: config.projectsveltos.io/v1beta1
kind: ClusterProfile
metadata: {name: bad-syncmode}
spec:
  clusterSelector: {matchLabels: {type: services}}
  syncMode: Sometimes`, `spec.syncMode: Unsupported value: "Sometimes"`},
		{"tier below minimum", `
apiVersion: config.projectsveltos.io/v1beta1
kind: ClusterProfile
metadata: {name: bad-tier}
spec:
  tier: 0`, `spec.tier`},
		{"policyRef kind enum", `
apiVersion: config.projectsveltos.io/v1beta1
kind: ClusterProfile
metadata: {name: bad-policyref}
spec:
  policyRefs:
  - {kind: Deployment, name: x, namespace: default}`, `spec.policyRefs[0].kind: Unsupported value: "Deployment"`},
		{"helm action enum", `
apiVersion: config.projectsveltos.io/v1beta1
kind: ClusterProfile
metadata: {name: bad-helm}
spec:
  helmCharts:
  - {repositoryURL: "https://example.com", repositoryName: r, chartName: r/c, chartVersion: "1.0.0", releaseName: c, releaseNamespace: c, helmChartAction: Reinstall}`, `Unsupported value: "Reinstall"`},
		{"validateHealths jobCheck with a script", `
apiVersion: config.projectsveltos.io/v1beta1
kind: ClusterProfile
metadata: {name: jobcheck-and-script}
spec:
  validateHealths:
  - {name: smoke, featureID: Helm, script: "function evaluate() return {healthy=true} end", jobCheck: {jobRef: {kind: ConfigMap, name: smoke}}}`, `jobCheck excludes script, evaluateCEL, metricSource and metricQueries`},
		{"validateHealths metricSource without metricQueries", `
apiVersion: config.projectsveltos.io/v1beta1
kind: ClusterProfile
metadata: {name: metricsource-no-queries}
spec:
  validateHealths:
  - {name: rate, featureID: Helm, script: "function evaluate() return {healthy=true} end", metricSource: {url: "http://prometheus:9090"}}`, `metricSource and metricQueries go together`},
		{"validateHealths metricSource without script", `
apiVersion: config.projectsveltos.io/v1beta1
kind: ClusterProfile
metadata: {name: metricsource-no-script}
spec:
  validateHealths:
  - {name: rate, featureID: Helm, metricSource: {url: "http://prometheus:9090"}, metricQueries: [{name: r, query: up}]}`, `metricSource needs a script`},
		{"validateHealths without kind", `
apiVersion: config.projectsveltos.io/v1beta1
kind: ClusterProfile
metadata: {name: validatehealth-no-kind}
spec:
  validateHealths:
  - {name: web, featureID: Helm, version: v1, script: "function evaluate() return {healthy=true} end"}`, `version and kind are required unless metricSource or jobCheck is set`},
		{"helm signatureVerification Keyless without matchOIDCIdentity", `
apiVersion: config.projectsveltos.io/v1beta1
kind: ClusterProfile
metadata: {name: signatureverification-keyless-no-identity}
spec:
  helmCharts:
  - {repositoryURL: "oci://example.com/charts", repositoryName: r, chartName: c, chartVersion: "1.0.0", releaseName: c, releaseNamespace: c, signatureVerification: {provider: Keyless, trustedRootSecretRef: {name: sigstore}}}`, `provider Keyless needs matchOIDCIdentity`},
		{"helm signatureVerification PublicKey without secretRef", `
apiVersion: config.projectsveltos.io/v1beta1
kind: ClusterProfile
metadata: {name: signatureverification-no-secretref}
spec:
  helmCharts:
  - {repositoryURL: "oci://example.com/charts", repositoryName: r, chartName: c, chartVersion: "1.0.0", releaseName: c, releaseNamespace: c, signatureVerification: {provider: PublicKey}}`, `provider PublicKey needs secretRef`},
		{"helm signatureVerification PublicKey with matchOIDCIdentity", `
apiVersion: config.projectsveltos.io/v1beta1
kind: ClusterProfile
metadata: {name: signatureverification-publickey-identity}
spec:
  helmCharts:
  - {repositoryURL: "oci://example.com/charts", repositoryName: r, chartName: c, chartVersion: "1.0.0", releaseName: c, releaseNamespace: c, signatureVerification: {provider: PublicKey, secretRef: {name: keys}, matchOIDCIdentity: [{issuer: "https://issuer", subject: "me@example.com"}]}}`, `apply to provider Keyless only`},
		{"helm signatureVerification Keyless with secretRef", `
apiVersion: config.projectsveltos.io/v1beta1
kind: ClusterProfile
metadata: {name: signatureverification-keyless-secretref}
spec:
  helmCharts:
  - {repositoryURL: "oci://example.com/charts", repositoryName: r, chartName: c, chartVersion: "1.0.0", releaseName: c, releaseNamespace: c, signatureVerification: {provider: Keyless, secretRef: {name: keys}, matchOIDCIdentity: [{issuer: "https://issuer", subject: "me@example.com"}]}}`, `applies to provider PublicKey only`},
		{"helm dependencyUpdate", `
apiVersion: config.projectsveltos.io/v1beta1
kind: ClusterProfile
metadata: {name: unsupported-dependencyupdate}
spec:
  helmCharts:
  - {repositoryURL: "https://example.com", repositoryName: r, chartName: r/c, chartVersion: "1.0.0", releaseName: c, releaseNamespace: c, options: {dependencyUpdate: true}}`, `dependencyUpdate is not supported by this version of Tugboat`},
		{"helm enableClientCache", `
apiVersion: config.projectsveltos.io/v1beta1
kind: ClusterProfile
metadata: {name: unsupported-enableclientcache}
spec:
  helmCharts:
  - {repositoryURL: "https://example.com", repositoryName: r, chartName: r/c, chartVersion: "1.0.0", releaseName: c, releaseNamespace: c, options: {enableClientCache: true}}`, `enableClientCache is not supported by this version of Tugboat`},
		{"helm upgradeOptions.recreate", `
apiVersion: config.projectsveltos.io/v1beta1
kind: ClusterProfile
metadata: {name: unsupported-upgradeoptions-recreate}
spec:
  helmCharts:
  - {repositoryURL: "https://example.com", repositoryName: r, chartName: r/c, chartVersion: "1.0.0", releaseName: c, releaseNamespace: c, options: {upgradeOptions: {recreate: true}}}`, `recreate is not supported by this version of Tugboat`},
		{"roleRef remoteURL template", `
apiVersion: lib.projectsveltos.io/v1beta1
kind: RoleRequest
metadata: {name: unsupported-roleref-remoteurl-template}
spec:
  serviceAccountName: sa
  serviceAccountNamespace: default
  roleRefs:
  - {kind: ConfigMap, name: x, namespace: default, remoteURL: {url: "https://example.com/roles.yaml", template: true}}`, `remoteURL.template is not supported in roleRefs by this version of Tugboat`},
		{"kustomizationRef remoteURL template", `
apiVersion: config.projectsveltos.io/v1beta1
kind: ClusterProfile
metadata: {name: kustomizationref-remoteurl-template}
spec:
  kustomizationRefs:
  - {kind: ConfigMap, name: x, remoteURL: {url: "https://example.com/kustomize.tar.gz", template: true}}`, `remoteURL.template does not apply to kustomizationRefs`},
		{"SveltosCluster workloadIdentity provider without its settings", `
apiVersion: lib.projectsveltos.io/v1beta1
kind: SveltosCluster
metadata: {name: workloadidentity-no-aws, namespace: default}
spec:
  workloadIdentity: {provider: AWS, endpoint: "https://example.com", gcp: {projectID: p, clusterName: c, location: l}}`, `aws must be set if and only if provider is AWS`},
		{"SveltosCluster workloadIdentity with kubeconfigName", `
apiVersion: lib.projectsveltos.io/v1beta1
kind: SveltosCluster
metadata: {name: workloadidentity-and-kubeconfig, namespace: default}
spec:
  kubeconfigName: x
  workloadIdentity: {provider: AWS, endpoint: "https://example.com", aws: {clusterName: c}}`, `workloadIdentity, kubeconfigName: conflict`},
		{"SveltosCluster pullMode with kubeconfigName", `
apiVersion: lib.projectsveltos.io/v1beta1
kind: SveltosCluster
metadata: {name: pullmode-and-kubeconfigname, namespace: default}
spec:
  pullMode: true
  kubeconfigName: x`, `pullMode, kubeconfigName: conflict`},
		{"SveltosCluster pullMode with kubeconfigKeyName", `
apiVersion: lib.projectsveltos.io/v1beta1
kind: SveltosCluster
metadata: {name: pullmode-and-kubeconfigkeyname, namespace: default}
spec:
  pullMode: true
  kubeconfigKeyName: x`, `pullMode, kubeconfigKeyName: conflict`},
		{"SveltosCluster pullMode with workloadIdentity", `
apiVersion: lib.projectsveltos.io/v1beta1
kind: SveltosCluster
metadata: {name: pullmode-and-workloadidentity, namespace: default}
spec:
  pullMode: true
  workloadIdentity: {provider: AWS, endpoint: "https://example.com", aws: {clusterName: c}}`, `pullMode, workloadIdentity: conflict`},
		{"SveltosCluster pullMode with tokenRequestRenewalOption", `
apiVersion: lib.projectsveltos.io/v1beta1
kind: SveltosCluster
metadata: {name: pullmode-and-tokenrequestrenewaloption, namespace: default}
spec:
  pullMode: true
  tokenRequestRenewalOption: {renewTokenRequestInterval: 1h}`, `pullMode, tokenRequestRenewalOption: conflict`},
		{"EventTrigger without sourceClusterSelector", `
apiVersion: lib.projectsveltos.io/v1beta1
kind: EventTrigger
metadata: {name: no-source}
spec:
  eventSourceName: x`, `spec.sourceClusterSelector: Required value`},
		{"EventSource label filter operation", `
apiVersion: lib.projectsveltos.io/v1beta1
kind: EventSource
metadata: {name: bad-op}
spec:
  resourceSelectors:
  - {group: "", version: v1, kind: Secret, labelFilters: [{key: a, operation: Like, value: b}]}`, `Unsupported value: "Like"`},
		{"EventSource selector without kind", `
apiVersion: lib.projectsveltos.io/v1beta1
kind: EventSource
metadata: {name: no-kind}
spec:
  resourceSelectors:
  - {group: "", version: v1}`, `spec.resourceSelectors[0].kind: Required value`},
		{"EventSource with neither resourceSelectors nor messagingMatchCriteria", `
apiVersion: lib.projectsveltos.io/v1beta1
kind: EventSource
metadata: {name: empty-source}
spec:
  collectResources: true`, `an EventSource needs resourceSelectors (Kubernetes resources) or messagingMatchCriteria (CloudEvents)`},
		{"EventSource combining resourceSelectors and messagingMatchCriteria", `
apiVersion: lib.projectsveltos.io/v1beta1
kind: EventSource
metadata: {name: both-source}
spec:
  resourceSelectors: [{group: "", version: v1, kind: Secret}]
  messagingMatchCriteria: [{subject: user-login}]`, `resourceSelectors and messagingMatchCriteria cannot be combined`},
		{"EventSource aggregatedSelection over CloudEvents", `
apiVersion: lib.projectsveltos.io/v1beta1
kind: EventSource
metadata: {name: aggregated-cloudevents}
spec:
  messagingMatchCriteria: [{cloudEventType: created}]
  aggregatedSelection: |
    function evaluate() return {resources = resources} end`, `aggregatedSelection filters what resourceSelectors select`},
		{"EventTrigger cloudEventAction", `
apiVersion: lib.projectsveltos.io/v1beta1
kind: EventTrigger
metadata: {name: bad-action}
spec:
  sourceClusterSelector: {matchLabels: {env: fv}}
  eventSourceName: user-login
  cloudEventAction: Update`, `cloudEventAction must be Create, Delete or a template`},
		{"RoleRequest roleRef naming a Flux source", `
apiVersion: lib.projectsveltos.io/v1beta1
kind: RoleRequest
metadata: {name: bad-roleref}
spec:
  serviceAccountName: admin
  serviceAccountNamespace: team-a
  roleRefs: [{kind: GitRepository, name: roles, namespace: default}]`, `roleRefs must name ConfigMaps or Secrets`},
		{"RoleRequest roleRef deployed locally", `
apiVersion: lib.projectsveltos.io/v1beta1
kind: RoleRequest
metadata: {name: local-roleref}
spec:
  serviceAccountName: admin
  serviceAccountNamespace: team-a
  roleRefs: [{kind: ConfigMap, name: roles, namespace: default, deploymentType: Local}]`, `deploymentType must be Remote or unset`},
		{"ClusterHealthCheck HealthCheck liveness without its source", `
apiVersion: lib.projectsveltos.io/v1beta1
kind: ClusterHealthCheck
metadata: {name: no-source}
spec:
  clusterSelector: {matchLabels: {env: fv}}
  livenessChecks: [{name: deployments, type: HealthCheck}]
  notifications: [{name: event, type: KubernetesEvent}]`, `a HealthCheck liveness check needs livenessSourceRef`},
		{"ClusterHealthCheck Slack notification without its Secret", `
apiVersion: lib.projectsveltos.io/v1beta1
kind: ClusterHealthCheck
metadata: {name: no-secret}
spec:
  clusterSelector: {matchLabels: {env: fv}}
  livenessChecks: [{name: addons, type: Addons}]
  notifications: [{name: slack, type: Slack}]`, `every notification but KubernetesEvent needs notificationRef naming a Secret`},
		{"Classifier without labels", `
apiVersion: lib.projectsveltos.io/v1beta1
kind: Classifier
metadata: {name: no-labels}
spec:
  kubernetesVersionConstraints: [{version: 1.30.0, comparison: GreaterThan}]
  classifierLabels: []`, `spec.classifierLabels`},
		{"Classifier version comparison enum", `
apiVersion: lib.projectsveltos.io/v1beta1
kind: Classifier
metadata: {name: bad-comparison}
spec:
  kubernetesVersionConstraints: [{version: 1.30.0, comparison: Around}]
  classifierLabels: [{key: k, value: v}]`, `Unsupported value: "Around"`},
		{"SveltosCluster failure threshold below minimum", `
apiVersion: lib.projectsveltos.io/v1beta1
kind: SveltosCluster
metadata: {name: bad-threshold, namespace: default}
spec:
  consecutiveFailureThreshold: 0`, `spec.consecutiveFailureThreshold`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := &unstructured.Unstructured{}
			if err := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(tc.manifest), 4096).Decode(&obj.Object); err != nil {
				t.Fatal(err)
			}
			err := c.Create(context.Background(), obj)
			if err == nil {
				t.Fatalf("accepted; want rejection mentioning %q", tc.want)
			}
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q; want an Invalid error mentioning %q", err, tc.want)
			}
		})
	}
}

// readObjects decodes every document of a YAML file.
func readObjects(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := templating.SplitDocuments(path, string(raw))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}
