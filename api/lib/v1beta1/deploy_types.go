package v1beta1

// This file holds the types that describe *what to deploy and how*. They are shared
// by the profiles of config.projectsveltos.io (ClusterProfile, Profile, ClusterSummary)
// and by EventTrigger here, which copies them into the ClusterProfiles it generates.
// config.projectsveltos.io/v1beta1 imports this package; this package never imports it.

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// SyncMode says how a profile keeps clusters in line with its spec.
// +kubebuilder:validation:Enum=OneTime;Continuous;ContinuousWithDriftDetection;DryRun
type SyncMode string

const (
	// SyncModeOneTime deploys once; later changes to the profile are not pushed.
	SyncModeOneTime SyncMode = "OneTime"
	// SyncModeContinuous pushes every change of the profile or of what it references.
	SyncModeContinuous SyncMode = "Continuous"
	// SyncModeContinuousWithDriftDetection also repairs changes made in the cluster.
	SyncModeContinuousWithDriftDetection SyncMode = "ContinuousWithDriftDetection"
	// SyncModeDryRun changes nothing and reports what would change in a ClusterReport.
	SyncModeDryRun SyncMode = "DryRun"
)

// StopMatchingBehavior says what happens to deployed objects when a cluster stops
// matching a profile or the profile is deleted.
// +kubebuilder:validation:Enum=WithdrawPolicies;LeavePolicies
type StopMatchingBehavior string

const (
	// WithdrawPolicies removes what the profile deployed.
	WithdrawPolicies StopMatchingBehavior = "WithdrawPolicies"
	// LeavePolicies leaves the objects in place without Tugboat's ownership metadata.
	LeavePolicies StopMatchingBehavior = "LeavePolicies"
)

// DeploymentType says which cluster receives the deployed objects.
// +kubebuilder:validation:Enum=Remote;Local
type DeploymentType string

const (
	// DeploymentTypeRemote deploys into the matched (managed) cluster.
	DeploymentTypeRemote DeploymentType = "Remote"
	// DeploymentTypeLocal deploys into the management cluster.
	DeploymentTypeLocal DeploymentType = "Local"
)

// FeatureID names one of the independently deployed parts of a profile.
// +kubebuilder:validation:Enum=Resources;Helm;Kustomize
type FeatureID string

const (
	// FeatureResources is the objects from policyRefs.
	FeatureResources FeatureID = "Resources"
	// FeatureHelm is the releases from helmCharts.
	FeatureHelm FeatureID = "Helm"
	// FeatureKustomize is the objects built from kustomizationRefs.
	FeatureKustomize FeatureID = "Kustomize"
)

// FeatureStatus is where a deployment stands in one cluster.
// +kubebuilder:validation:Enum=Provisioning;Provisioned;Failed;FailedNonRetriable;Removing;Removed
type FeatureStatus string

const (
	FeatureStatusProvisioning       FeatureStatus = "Provisioning"
	FeatureStatusProvisioned        FeatureStatus = "Provisioned"
	FeatureStatusFailed             FeatureStatus = "Failed"
	FeatureStatusFailedNonRetriable FeatureStatus = "FailedNonRetriable"
	FeatureStatusRemoving           FeatureStatus = "Removing"
	FeatureStatusRemoved            FeatureStatus = "Removed"
)

// Kinds of source a policyRef or kustomizationRef can point at.
const (
	ConfigMapReferencedKind     = "ConfigMap"
	SecretReferencedKind        = "Secret"
	GitRepositoryReferencedKind = "GitRepository"
	OCIRepositoryReferencedKind = "OCIRepository"
	BucketReferencedKind        = "Bucket"
)

// PolicyRef points at a source of objects to deploy: each data value of a ConfigMap or
// Secret holds one or more YAML/JSON documents; a Flux source holds files under Path.
type PolicyRef struct {
	// Kind of the source.
	// +kubebuilder:validation:Enum=ConfigMap;Secret;GitRepository;OCIRepository;Bucket
	Kind string `json:"kind"`

	// Namespace of the source. Empty means the matched cluster's namespace (for a
	// ClusterProfile) or the profile's namespace (for a Profile). May be a template.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// Name of the source. May be a template.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// Path inside a Flux source where the files to deploy are.
	// +optional
	Path string `json:"path,omitempty"`

	// DeploymentType is Remote (the matched cluster) or Local (the management cluster).
	// +kubebuilder:default=Remote
	// +optional
	DeploymentType DeploymentType `json:"deploymentType,omitempty"`

	// Optional means a missing source is not an error.
	// +optional
	Optional bool `json:"optional,omitempty"`

	// Tier, when set, replaces the profile's tier for the objects from this source
	// when resolving conflicts. Lower wins. Unset means the profile's tier.
	// +kubebuilder:validation:Minimum=1
	// +optional
	Tier int32 `json:"tier,omitempty"`

	// SkipNamespaceCreation stops Tugboat from creating the namespaces the objects live in.
	// +optional
	SkipNamespaceCreation bool `json:"skipNamespaceCreation,omitempty"`

	// Force deletes and recreates an object when an update fails on an immutable field.
	// +optional
	Force bool `json:"force,omitempty"`

	// RemoteURL, when set, is where the objects to deploy come from: the
	// manager GETs the URL (one or more YAML/JSON documents), every interval
	// again, and deploys what it returned like the data of a ConfigMap (a
	// template when remoteURL.template is true). Kind, namespace and name are
	// then not read: they only name the source (ownership, conflicts). A fetch
	// that fails (an HTTP error status, no answer in time, a TLS or credentials
	// problem) or content that does not parse fails the Resources feature with
	// a message naming the ref and the URL, and what was deployed stays.
	// +optional
	RemoteURL *RemoteURL `json:"remoteURL,omitempty"`
}

// RemoteURL is content fetched over HTTP(S) by the manager.
type RemoteURL struct {
	// URL is the http(s) address of the content: one or more YAML/JSON documents.
	// +kubebuilder:validation:MinLength=1
	URL string `json:"url"`

	// Interval is how often the content is fetched again: between two fetches
	// the manager reuses the content it fetched last (kept in memory per URL,
	// credentials and template flag), however often the profile is reconciled.
	// Unset means 5m. It also bounds one fetch (at most 30s).
	// +optional
	Interval *metav1.Duration `json:"interval,omitempty"`

	// SecretRef names a Secret of the management cluster with the credentials:
	// the keys username and password (HTTP basic auth) or token (a bearer token),
	// and ca.crt, a PEM bundle of certificate authorities trusted in addition to
	// the system's. An empty namespace means the profile's reference namespace.
	// +optional
	SecretRef *corev1.SecretReference `json:"secretRef,omitempty"`

	// PlainHTTP allows an http:// URL; without it only https:// is fetched.
	// +optional
	PlainHTTP bool `json:"plainHTTP,omitempty"`

	// InsecureSkipTLSVerify accepts any TLS certificate from the server.
	// +optional
	InsecureSkipTLSVerify bool `json:"insecureSkipTLSVerify,omitempty"`

	// Template says the fetched content is a template, rendered per cluster like
	// a ConfigMap carrying the projectsveltos.io/template annotation.
	// +optional
	Template bool `json:"template,omitempty"`
}

// ValueFrom points at a ConfigMap or Secret whose data values are used (as templates).
type ValueFrom struct {
	// Kind is ConfigMap or Secret.
	// +kubebuilder:validation:Enum=ConfigMap;Secret
	Kind string `json:"kind"`

	// Namespace of the object; empty means the matched cluster's namespace. May be a template.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// Name of the object. May be a template.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// Optional means a missing object is not an error.
	// +optional
	Optional bool `json:"optional,omitempty"`
}

// HelmChartAction says whether a chart is to be present or absent.
// +kubebuilder:validation:Enum=Install;Uninstall
type HelmChartAction string

const (
	HelmChartActionInstall   HelmChartAction = "Install"
	HelmChartActionUninstall HelmChartAction = "Uninstall"
)

// HelmChart is one Helm release to manage in the matched clusters.
type HelmChart struct {
	// RepositoryURL is the chart repository: an http(s) URL or oci:// reference.
	// +kubebuilder:validation:MinLength=1
	RepositoryURL string `json:"repositoryURL"`

	// RepositoryName is the local name given to the repository.
	// +kubebuilder:validation:MinLength=1
	RepositoryName string `json:"repositoryName"`

	// ChartName is the chart, as <repositoryName>/<chart> for http(s) repositories.
	// +kubebuilder:validation:MinLength=1
	ChartName string `json:"chartName"`

	// ChartVersion is the chart version to install.
	// +kubebuilder:validation:MinLength=1
	ChartVersion string `json:"chartVersion"`

	// ReleaseName is the name of the Helm release.
	// +kubebuilder:validation:MinLength=1
	ReleaseName string `json:"releaseName"`

	// ReleaseNamespace is the namespace the release is installed in.
	// +kubebuilder:validation:MinLength=1
	ReleaseNamespace string `json:"releaseNamespace"`

	// Values are chart values in YAML. They are a template rendered per cluster.
	// +optional
	Values string `json:"values,omitempty"`

	// ValuesFrom are ConfigMaps/Secrets whose data values hold more chart values
	// (templates too). Later entries override earlier ones, and Values overrides them all.
	// +optional
	ValuesFrom []ValueFrom `json:"valuesFrom,omitempty"`

	// HelmChartAction is Install (default) or Uninstall.
	// +kubebuilder:default=Install
	// +optional
	HelmChartAction HelmChartAction `json:"helmChartAction,omitempty"`

	// Options tune the Helm install, upgrade and uninstall operations.
	// +optional
	Options *HelmOptions `json:"options,omitempty"`

	// RegistryCredentialsConfig says how to reach a private chart repository or
	// OCI registry: credentials and a CA certificate from Secrets of the
	// management cluster, TLS verification and plain HTTP.
	// +optional
	RegistryCredentialsConfig *RegistryCredentialsConfig `json:"registryCredentialsConfig,omitempty"`

	// SignatureVerification verifies the Cosign signature of an OCI chart before
	// anything is installed: the chart's tag is resolved to its manifest digest,
	// the signature stored beside it in the same repository (the tag
	// sha256-<digest>.sig that cosign sign writes) must be valid for the
	// provider — made by one of the public keys of secretRef (PublicKey), or by
	// a Fulcio certificate of an accepted identity recorded in Rekor (Keyless) —
	// and its signed payload must name that very digest; the chart is then
	// pulled by that digest. A chart with no signature, a signature that fails
	// the provider's checks, or a signature for another digest (a replaced or
	// tampered chart) fails the Helm feature with the reason and the release is
	// left as it was. Applies to oci:// repositories; an http(s) chart with
	// signatureVerification fails the feature saying so (use
	// provenanceVerification there).
	// +optional
	SignatureVerification *SignatureVerification `json:"signatureVerification,omitempty"`

	// ProvenanceVerification verifies the chart archive before anything is
	// installed: the repository must serve <archive>.prov next to the archive,
	// its OpenPGP signature must be made by a key of the keyring, and the
	// archive's SHA-256 must be the one the signed provenance names. An unsigned,
	// tampered or foreign-signed chart fails the Helm feature with the reason and
	// the release is left as it was. Applies to http(s) repositories; an OCI
	// chart with provenanceVerification fails the feature saying so.
	// +optional
	ProvenanceVerification *ProvenanceVerification `json:"provenanceVerification,omitempty"`
}

// RegistryCredentialsConfig is how to reach a private chart repository or registry.
type RegistryCredentialsConfig struct {
	// CredentialsSecretRef names a Secret of the management cluster holding the
	// credentials: either the keys username and password (HTTP basic auth), or a
	// Docker config JSON (the key given by Key; else .dockerconfigjson or
	// config.json, or the Secret's only key) whose auths entry for the
	// repository's host is used. An empty namespace means the cluster's namespace.
	// +optional
	CredentialsSecretRef *corev1.SecretReference `json:"credentials,omitempty"`

	// Key is the key of the credentials Secret holding a Docker config JSON.
	// +optional
	Key string `json:"key,omitempty"`

	// CASecretRef names a Secret of the management cluster whose key ca.crt is a
	// PEM bundle of certificate authorities trusted (in addition to the system's)
	// for the repository's TLS certificate. An empty namespace means the
	// cluster's namespace.
	// +optional
	CASecretRef *corev1.SecretReference `json:"ca,omitempty"`

	// InsecureSkipTLSVerify accepts any TLS certificate from the repository.
	// +optional
	InsecureSkipTLSVerify bool `json:"insecureSkipTLSVerify,omitempty"`

	// PlainHTTP talks to an OCI registry over plain HTTP instead of HTTPS.
	// +optional
	PlainHTTP bool `json:"plainHTTP,omitempty"`
}

// SignatureProvider is how a Cosign signature is checked.
// +kubebuilder:validation:Enum=Keyless;PublicKey
type SignatureProvider string

const (
	// SignatureProviderPublicKey checks the signature against public keys of a Secret.
	SignatureProviderPublicKey SignatureProvider = "PublicKey"
	// SignatureProviderKeyless checks a Fulcio certificate of an accepted
	// identity and its Rekor transparency-log bundle.
	SignatureProviderKeyless SignatureProvider = "Keyless"
)

// SignatureVerification is Cosign verification of an OCI chart.
// +kubebuilder:validation:XValidation:rule="self.provider != 'PublicKey' || has(self.secretRef)",message="signatureVerification provider PublicKey needs secretRef, the Secret holding the public key (cosign.pub)"
// +kubebuilder:validation:XValidation:rule="self.provider != 'Keyless' || (has(self.matchOIDCIdentity) && size(self.matchOIDCIdentity) > 0)",message="signatureVerification provider Keyless needs matchOIDCIdentity, the signer identities (issuer and subject regular expressions) to accept"
// +kubebuilder:validation:XValidation:rule="self.provider != 'PublicKey' || (!has(self.matchOIDCIdentity) && !has(self.trustedRootSecretRef))",message="signatureVerification matchOIDCIdentity and trustedRootSecretRef apply to provider Keyless only; with provider PublicKey the keys of secretRef decide"
// +kubebuilder:validation:XValidation:rule="self.provider != 'Keyless' || !has(self.secretRef)",message="signatureVerification secretRef (public keys) applies to provider PublicKey only; with provider Keyless matchOIDCIdentity and the trust root decide"
type SignatureVerification struct {
	// Provider is how the signature is checked. PublicKey: the signature must
	// be made by a key of the Secret secretRef names. Keyless: the signature
	// layer must carry a Fulcio-style certificate (annotation
	// dev.sigstore.cosign/certificate, intermediates in
	// dev.sigstore.cosign/chain) and a Rekor bundle
	// (dev.sigstore.cosign/bundle), and Tugboat checks, offline: the
	// certificate chains to a trusted Fulcio CA (fulcio.pem of
	// trustedRootSecretRef, else the built-in Sigstore public-good root) at the
	// time Rekor recorded the signature (integratedTime) and allows code
	// signing; its OIDC issuer (extension 1.3.6.1.4.1.57264.1.8, or the
	// legacy 1.3.6.1.4.1.57264.1.1) and its subject (the email or URI
	// subject alternative name) match one entry of matchOIDCIdentity; the
	// signature over the payload verifies with the certificate's key; the
	// bundle's signed entry timestamp verifies with the trusted Rekor key
	// (rekor.pub, else the public-good log's) whose log ID is the bundle's;
	// the recorded hashedrekord entry names the same signature, certificate
	// and payload hash. The Rekor server is not contacted.
	Provider SignatureProvider `json:"provider"`

	// SecretRef names a Secret of the management cluster holding the trusted
	// public keys: every data key ending in .pub (cosign.pub, as cosign
	// generate-key-pair writes it) is a PEM public key (ECDSA, RSA or Ed25519);
	// a signature made by any of them is accepted. An empty namespace means the
	// cluster's namespace. Required with provider PublicKey, rejected with
	// Keyless.
	// +optional
	SecretRef *corev1.SecretReference `json:"secretRef,omitempty"`

	// MatchOIDCIdentity are the signer identities accepted with provider
	// Keyless: a signature is accepted when its certificate's OIDC issuer
	// matches issuer and its subject (email or URI subject alternative name)
	// matches subject of at least one entry. Both are Go regular expressions
	// matched against the whole value (implicitly anchored). Required with
	// Keyless; rejected with PublicKey.
	// +optional
	MatchOIDCIdentity []OIDCIdentityMatch `json:"matchOIDCIdentity,omitempty"`

	// TrustedRootSecretRef (a Tugboat addition; Sveltos fetches the Sigstore
	// public-good trust root over the internet, Tugboat never does) names a
	// Secret of the management cluster holding the trust root for provider
	// Keyless: key fulcio.pem holds the PEM certificates of the trusted Fulcio
	// CAs (roots, and intermediates if they are not in the signature's chain);
	// key rekor.pub holds the PEM public keys of the trusted Rekor logs (one
	// or more PUBLIC KEY blocks; a log's ID is the SHA-256 of its key's DER
	// encoding). Without it, Keyless trusts the Sigstore public-good instance
	// built into Tugboat: the Fulcio root and intermediate in use since
	// April 2022 and the Rekor log key (log ID c0d23d6a…). Set it for a private
	// Sigstore, or when the public-good root rotates. An empty namespace means
	// the cluster's namespace. Rejected with PublicKey.
	// +optional
	TrustedRootSecretRef *corev1.SecretReference `json:"trustedRootSecretRef,omitempty"`
}

// SignaturePublicKeySuffix ends the keys of the signatureVerification Secret
// that hold trusted public keys.
const SignaturePublicKeySuffix = ".pub"

// Keys of the signatureVerification.trustedRootSecretRef Secret.
const (
	// TrustedRootFulcioKey holds the PEM certificates of the trusted Fulcio CAs.
	TrustedRootFulcioKey = "fulcio.pem"
	// TrustedRootRekorKey holds the PEM public keys of the trusted Rekor logs.
	TrustedRootRekorKey = "rekor.pub"
)

// OIDCIdentityMatch is a signer identity: regular expressions over the issuer and subject.
type OIDCIdentityMatch struct {
	// Issuer is a Go regular expression, matched against the whole OIDC
	// issuer of the certificate (e.g.
	// "^https://token.actions.githubusercontent.com$").
	// +kubebuilder:validation:MinLength=1
	Issuer string `json:"issuer"`
	// Subject is a Go regular expression, matched against the whole subject of
	// the certificate: its email or URI subject alternative name (e.g.
	// "^https://github.com/org/repo/.github/workflows/release.yaml@refs/tags/.*$").
	// +kubebuilder:validation:MinLength=1
	Subject string `json:"subject"`
}

// ProvenanceVerification is the OpenPGP keyring a chart's provenance file must be signed with.
type ProvenanceVerification struct {
	// KeyringSecretRef names a Secret of the management cluster whose key
	// keyring.gpg is an OpenPGP public keyring (binary, as gpg --export writes
	// it, or ASCII-armored). An empty namespace means the cluster's namespace.
	KeyringSecretRef corev1.SecretReference `json:"keyringSecretRef"`
}

// ProvenanceKeyringKey is the key of the keyring Secret holding the keyring.
const ProvenanceKeyringKey = "keyring.gpg"

// HelmOptions are the knobs of Helm's install, upgrade and uninstall actions.
type HelmOptions struct {
	// Wait waits until the release's resources are ready (no effect without kubelets).
	// +optional
	Wait bool `json:"wait,omitempty"`

	// WaitForJobs also waits for the release's Jobs to complete.
	// +optional
	WaitForJobs bool `json:"waitForJobs,omitempty"`

	// Timeout bounds each Helm operation (e.g. "5m").
	// +optional
	Timeout *metav1.Duration `json:"timeout,omitempty"`

	// SkipCRDs skips the chart's crds/ folder.
	// +optional
	SkipCRDs bool `json:"skipCRDs,omitempty"`

	// Atomic rolls back (or uninstalls) when an install or upgrade fails.
	// +optional
	Atomic bool `json:"atomic,omitempty"`

	// DisableHooks skips the chart's hooks.
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// DisableOpenAPIValidation skips validating the rendered manifests against the server's schema.
	// +optional
	DisableOpenAPIValidation bool `json:"disableOpenAPIValidation,omitempty"`

	// DependencyUpdate would download the chart's missing dependencies before
	// installing. Not supported by this version of Tugboat (rejected when true):
	// publish charts with their dependencies packaged in charts/.
	// +kubebuilder:validation:XValidation:rule="!self",message="dependencyUpdate is not supported by this version of Tugboat: package the chart with its dependencies (helm dependency build) and leave it unset or false"
	// +optional
	DependencyUpdate bool `json:"dependencyUpdate,omitempty"`

	// Labels are added to the release record.
	// +optional
	Labels map[string]string `json:"labels,omitempty"`

	// EnableClientCache would keep Helm's Kubernetes clients between operations.
	// Not supported by this version of Tugboat (rejected when true): each
	// operation builds its clients, with discovery cached for that operation.
	// +kubebuilder:validation:XValidation:rule="!self",message="enableClientCache is not supported by this version of Tugboat: leave it unset or false"
	// +optional
	EnableClientCache bool `json:"enableClientCache,omitempty"`

	// Description is recorded on the release.
	// +optional
	Description string `json:"description,omitempty"`

	// InstallOptions apply when the release is first installed.
	// +optional
	InstallOptions HelmInstallOptions `json:"installOptions,omitempty"`

	// UpgradeOptions apply when an existing release is upgraded.
	// +optional
	UpgradeOptions HelmUpgradeOptions `json:"upgradeOptions,omitempty"`

	// UninstallOptions apply when the release is removed.
	// +optional
	UninstallOptions HelmUninstallOptions `json:"uninstallOptions,omitempty"`

	// SkipSchemaValidation installs and upgrades without validating the values
	// against the chart's values.schema.json.
	// +optional
	SkipSchemaValidation bool `json:"skipSchemaValidation,omitempty"`

	// PassCredentialsAll sends the repository credentials (registryCredentialsConfig)
	// with every download, also when the index points the archive or its
	// provenance file at another host. Without it they go to the repository's
	// host only.
	// +optional
	PassCredentialsAll bool `json:"passCredentialsAll,omitempty"`

	// RunTests runs the chart's test hooks (helm.sh/hook: test) after every
	// install or upgrade, as helm test does, and waits for them (options.timeout).
	// A failing test fails the Helm feature, its message naming the test; the
	// release stays installed and its tests run again at the next attempt until
	// they pass (Helm records each test's last run in the release). Tests do not
	// run in DryRun mode.
	// +optional
	RunTests bool `json:"runTests,omitempty"`

	// PostRenderStrategy says how the profile's patches (Helm's post-renderer)
	// see the chart's hooks: combined (default: hooks and templates patched
	// together), separate (hooks patched apart from the templates) or nohooks
	// (hooks are not patched).
	// +kubebuilder:validation:Enum=combined;separate;nohooks
	// +optional
	PostRenderStrategy string `json:"postRenderStrategy,omitempty"`
}

// HelmInstallOptions tune a first install.
type HelmInstallOptions struct {
	// CreateNamespace creates the release namespace if it is missing. Unset means true.
	// +kubebuilder:default=true
	// +optional
	CreateNamespace *bool `json:"createNamespace,omitempty"`

	// Replace reuses the name of a release that was uninstalled with its history kept.
	// Unset means true.
	// +kubebuilder:default=true
	// +optional
	Replace *bool `json:"replace,omitempty"`

	// DisableHooks skips the chart's hooks on the first install (options.disableHooks
	// skips them on every operation).
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// TakeOwnership lets the install adopt objects that already exist in the
	// cluster without belonging to a Helm release, instead of failing.
	// +optional
	TakeOwnership bool `json:"takeOwnership,omitempty"`

	// RecoverAfterConsecutiveFailures is the number of consecutive failures of a
	// release that was never deployed after which its release records are
	// removed (uninstall) before the install is tried again, so that a stale
	// failed or pending record stops blocking it. A release with a deployed
	// revision is never removed this way. 0 turns recovery off. Unset means 5.
	// +kubebuilder:default=5
	// +kubebuilder:validation:Minimum=0
	// +optional
	RecoverAfterConsecutiveFailures *int32 `json:"recoverAfterConsecutiveFailures,omitempty"`
}

// DefaultRecoverAfterConsecutiveFailures is RecoverAfterConsecutiveFailures when unset.
const DefaultRecoverAfterConsecutiveFailures = 5

// RecoverAfterConsecutiveFailuresOrDefault is RecoverAfterConsecutiveFailures, 5 when unset.
func (o *HelmInstallOptions) RecoverAfterConsecutiveFailuresOrDefault() int {
	if o == nil || o.RecoverAfterConsecutiveFailures == nil {
		return DefaultRecoverAfterConsecutiveFailures
	}
	return int(*o.RecoverAfterConsecutiveFailures)
}

// CreateNamespaceOrDefault is CreateNamespace, true when unset.
func (o *HelmInstallOptions) CreateNamespaceOrDefault() bool {
	return o == nil || o.CreateNamespace == nil || *o.CreateNamespace
}

// ReplaceOrDefault is Replace, true when unset.
func (o *HelmInstallOptions) ReplaceOrDefault() bool {
	return o == nil || o.Replace == nil || *o.Replace
}

// HelmUpgradeOptions tune an upgrade of an existing release.
type HelmUpgradeOptions struct {
	// Force replaces resources that cannot be patched.
	// +optional
	Force bool `json:"force,omitempty"`

	// MaxHistory caps the number of release revisions kept. Unset (or 0) means 2.
	// +kubebuilder:default=2
	// +kubebuilder:validation:Minimum=0
	// +optional
	MaxHistory int32 `json:"maxHistory,omitempty"`

	// ResetValues discards the values stored in the release and uses the chart's defaults.
	// +optional
	ResetValues bool `json:"resetValues,omitempty"`

	// ReuseValues merges the new values into those stored in the release.
	// +optional
	ReuseValues bool `json:"reuseValues,omitempty"`

	// ResetThenReuseValues resets to the chart's defaults, then applies the stored values and the new ones.
	// +optional
	ResetThenReuseValues bool `json:"resetThenReuseValues,omitempty"`

	// CleanupOnFail deletes resources created by a failed upgrade.
	// +optional
	CleanupOnFail bool `json:"cleanupOnFail,omitempty"`

	// SubNotes renders the notes of subcharts.
	// +optional
	SubNotes bool `json:"subNotes,omitempty"`

	// Recreate would restart the pods of the release's workloads. Helm 4, which
	// Tugboat uses, has no such operation: rejected when true.
	// +kubebuilder:validation:XValidation:rule="!self",message="recreate is not supported by this version of Tugboat (Helm 4 removed it): roll the workloads with a changed pod template annotation instead, and leave it unset or false"
	// +optional
	Recreate bool `json:"recreate,omitempty"`

	// DisableHooks skips the chart's hooks on upgrades (options.disableHooks
	// skips them on every operation).
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// TakeOwnership lets the upgrade adopt objects that already exist in the
	// cluster without belonging to this release, instead of failing.
	// +optional
	TakeOwnership bool `json:"takeOwnership,omitempty"`

	// UpgradeCRDs applies the CRDs of the chart's crds/ folder before an upgrade
	// (Helm installs them on the first install only and never changes them).
	// +optional
	UpgradeCRDs bool `json:"upgradeCRDs,omitempty"`
}

// DefaultHelmMaxHistory is the number of release revisions kept when MaxHistory is unset.
const DefaultHelmMaxHistory = 2

// MaxHistoryOrDefault is MaxHistory, DefaultHelmMaxHistory when unset.
func (o *HelmUpgradeOptions) MaxHistoryOrDefault() int {
	if o == nil || o.MaxHistory <= 0 {
		return DefaultHelmMaxHistory
	}
	return int(o.MaxHistory)
}

// HelmUninstallOptions tune the removal of a release.
type HelmUninstallOptions struct {
	// KeepHistory keeps the release record after uninstalling.
	// +optional
	KeepHistory bool `json:"keepHistory,omitempty"`

	// DisableHooks skips the chart's hooks when uninstalling (options.disableHooks
	// skips them on every operation).
	// +optional
	DisableHooks bool `json:"disableHooks,omitempty"`

	// DeletionPropagation is how dependents of deleted resources are removed.
	// +kubebuilder:validation:Enum=background;orphan;foreground
	// +optional
	DeletionPropagation string `json:"deletionPropagation,omitempty"`
}

// KustomizationRef points at a kustomization to build and deploy.
type KustomizationRef struct {
	// Kind of the source holding the kustomization.
	// +kubebuilder:validation:Enum=ConfigMap;Secret;GitRepository;OCIRepository;Bucket
	Kind string `json:"kind"`

	// Namespace of the source; empty means the matched cluster's namespace. May be a template.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// Name of the source. May be a template.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// Path of the kustomization inside the source.
	// +optional
	Path string `json:"path,omitempty"`

	// TargetNamespace, when set, is the namespace every namespaced output object is put in.
	// +optional
	TargetNamespace string `json:"targetNamespace,omitempty"`

	// DeploymentType is Remote (the matched cluster) or Local (the management cluster).
	// +kubebuilder:default=Remote
	// +optional
	DeploymentType DeploymentType `json:"deploymentType,omitempty"`

	// Values are key/value pairs (templates) substituted into the kustomize output.
	// +optional
	Values map[string]string `json:"values,omitempty"`

	// ValuesFrom are ConfigMaps/Secrets whose data adds to Values.
	// +optional
	ValuesFrom []ValueFrom `json:"valuesFrom,omitempty"`

	// Optional means a missing source is not an error.
	// +optional
	Optional bool `json:"optional,omitempty"`

	// Tier, when set, replaces the profile's tier for the objects from this source
	// when resolving conflicts. Lower wins. Unset means the profile's tier.
	// +kubebuilder:validation:Minimum=1
	// +optional
	Tier int32 `json:"tier,omitempty"`

	// SkipNamespaceCreation stops Tugboat from creating the namespaces the objects live in.
	// +optional
	SkipNamespaceCreation bool `json:"skipNamespaceCreation,omitempty"`

	// Components are Kustomize components (folders holding a kind: Component
	// kustomization), as paths relative to path inside the same source, added to
	// the build after the kustomization's own components, as the components field
	// of a kustomization.yaml would add them. A path that leaves the source, or a
	// folder without a Component kustomization, fails the Kustomize feature.
	// +optional
	Components []string `json:"components,omitempty"`

	// Force deletes and recreates an object built from this kustomization when
	// the API server rejects its update because an immutable field changed (a
	// Job's template, a Service's clusterIP). Without it such an update fails the
	// Kustomize feature with the server's message.
	// +optional
	Force bool `json:"force,omitempty"`

	// RemoteURL, when set, is where the kustomization comes from: the manager
	// GETs the URL, which must serve a tar archive (gzip-compressed or not) of
	// a folder tree, and builds the kustomization at path inside it, with
	// components, targetNamespace, values and force as for any other source.
	// The content is fetched once per remoteURL.interval and kept in memory
	// between fetches; kind, namespace and name are then not read: they only
	// name the source (ownership, conflicts). A fetch that fails, content that
	// is not a tar archive, or a path that is not in it fails the Kustomize
	// feature with a message naming the ref and the URL, and what was deployed
	// stays. remoteURL.template does not apply (use values).
	// +kubebuilder:validation:XValidation:rule="!has(self.template) || !self.template",message="remoteURL.template does not apply to kustomizationRefs: the fetched archive is built by kustomize; use values for per-cluster placeholders"
	// +optional
	RemoteURL *RemoteURL `json:"remoteURL,omitempty"`
}

// TemplateResourceRef makes an object of the management cluster available to templates.
type TemplateResourceRef struct {
	// Resource names the object (apiVersion, kind, namespace, name). Namespace and name
	// may be templates; an empty namespace means the matched cluster's namespace.
	Resource corev1.ObjectReference `json:"resource"`

	// Identifier is how templates refer to the object (e.g. getResource "Id").
	// +kubebuilder:validation:MinLength=1
	Identifier string `json:"identifier"`

	// Optional means a missing object is not an error (templates see it as absent).
	// +optional
	Optional bool `json:"optional,omitempty"`

	// IgnoreStatusChanges: a change to only the object's status does not deploy
	// the profile again (by default any change of the object does). Templates
	// still see the whole object, status included, whenever the profile deploys
	// for another reason.
	// +optional
	IgnoreStatusChanges bool `json:"ignoreStatusChanges,omitempty"`

	// WatchFields, when set, are the only fields of the object whose change
	// deploys the profile again: paths from the object's root in the syntax of
	// the getField template helper (dot-separated keys, [N] list indexes,
	// ["quoted.key"] keys; e.g. spec.replicas, metadata.labels). Changes
	// elsewhere (status included) are ignored until the profile deploys for
	// another reason; templates still see the whole object. A path naming a
	// missing field counts as empty; a path that does not parse fails the
	// Resources feature naming it.
	// +optional
	WatchFields []string `json:"watchFields,omitempty"`
}

// PatchSelector chooses the objects a patch or drift exclusion applies to. Empty
// fields match anything; name and namespace are regular expressions.
type PatchSelector struct {
	// +optional
	Group string `json:"group,omitempty"`
	// +optional
	Version string `json:"version,omitempty"`
	// +optional
	Kind string `json:"kind,omitempty"`
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// +optional
	Name string `json:"name,omitempty"`
	// AnnotationSelector is a label-selector expression over annotations.
	// +optional
	AnnotationSelector string `json:"annotationSelector,omitempty"`
	// LabelSelector is a label-selector expression over labels.
	// +optional
	LabelSelector string `json:"labelSelector,omitempty"`
}

// Patch is a strategic-merge patch or a JSON 6902 patch (a list of operations),
// applied to every deployed object its target matches. It is a template.
type Patch struct {
	// Patch is the patch document in YAML or JSON; in a profile it is a
	// template rendered for each cluster.
	// +kubebuilder:validation:MinLength=1
	Patch string `json:"patch"`

	// Target chooses the objects; without it a strategic-merge patch applies to the
	// objects with the kind and name it names.
	// +optional
	Target *PatchSelector `json:"target,omitempty"`
}

// DriftExclusion lists fields drift detection ignores and deployment does not re-apply.
type DriftExclusion struct {
	// Paths are JSON pointers (e.g. /spec/replicas).
	// +kubebuilder:validation:MinItems=1
	Paths []string `json:"paths"`

	// Target chooses the objects; without it the paths apply to every deployed object.
	// +optional
	Target *PatchSelector `json:"target,omitempty"`
}

// ValidateHealth is a check in the managed cluster: over resources of one
// kind (script, evaluateCEL), over the answers of a Prometheus endpoint
// (metricSource, metricQueries) or by the outcome of a Job run in the cluster
// (jobCheck). In validateHealths it must pass before a feature counts as
// Provisioned; in preDeployChecks before a feature is deployed; in
// preDeleteChecks and postDeleteChecks before and after withdrawal. Every
// selected object must be healthy; no selected object passes, except in
// preDeployChecks, where at least one must be selected. When both script and
// evaluateCEL are set, both must hold; at least one of them is required, except
// in preDeployChecks (an existence check) and with jobCheck (which excludes
// both). version and kind are required unless metricSource or jobCheck is set.
// +kubebuilder:validation:XValidation:rule="has(self.jobCheck) || has(self.metricSource) || (has(self.version) && size(self.version) > 0 && has(self.kind) && size(self.kind) > 0)",message="version and kind are required unless metricSource or jobCheck is set"
// +kubebuilder:validation:XValidation:rule="!has(self.jobCheck) || (!has(self.script) && !has(self.evaluateCEL) && !has(self.metricSource) && !has(self.metricQueries))",message="jobCheck excludes script, evaluateCEL, metricSource and metricQueries: the Job's outcome is the check's result"
// +kubebuilder:validation:XValidation:rule="has(self.metricSource) == (has(self.metricQueries) && size(self.metricQueries) > 0)",message="metricSource and metricQueries go together"
// +kubebuilder:validation:XValidation:rule="!has(self.metricSource) || (has(self.script) && size(self.script) > 0)",message="metricSource needs a script: the query results reach the Lua script as metrics[name]"
type ValidateHealth struct {
	// Name identifies the check in messages.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// FeatureID is the feature this check gates.
	FeatureID FeatureID `json:"featureID"`

	// Group of the resources to check.
	// +optional
	Group string `json:"group,omitempty"`

	// Version of the resources to check. Required unless metricSource or
	// jobCheck is set.
	// +optional
	Version string `json:"version,omitempty"`

	// Kind of the resources to check. Required unless metricSource or jobCheck
	// is set; with metricSource and no kind, the script runs once, with no obj.
	// +optional
	Kind string `json:"kind,omitempty"`

	// Namespace restricts the check to one namespace.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// LabelFilters restrict the resources checked; they are ANDed.
	// +optional
	LabelFilters []LabelFilter `json:"labelFilters,omitempty"`

	// Script is a Lua program defining evaluate(), which reads the object as the
	// global obj (when kind is set) and the metricQueries' results as the global
	// table metrics (when metricSource is set), and returns a table
	// {healthy=bool, message=string}.
	// +optional
	Script string `json:"script,omitempty"`

	// EvaluateCEL are CEL rules over `resource` (the object); it is healthy if any
	// rule is true. They do not see the metrics.
	// +optional
	EvaluateCEL []CELRule `json:"evaluateCEL,omitempty"`

	// MetricSource is a Prometheus-compatible HTTP API the manager queries (from
	// the management cluster) before it runs the script: each of metricQueries
	// is an instant query (GET <url>/api/v1/query) whose answer must be a scalar
	// or a vector of exactly one sample; its value reaches the script as
	// metrics["<name>"] (a number). Metrics cannot be watched: while a feature is
	// deployed, its checks with a metricSource are evaluated again every 30
	// seconds (the manager's --health-metrics-interval). An endpoint that cannot
	// be reached, a query Prometheus refuses, or an answer that is not one value
	// keeps the check failing with a message naming the check, the field and the
	// reason.
	// +optional
	MetricSource *MetricSource `json:"metricSource,omitempty"`

	// MetricQueries are the PromQL instant queries of metricSource, by name.
	// +optional
	// +listType=map
	// +listMapKey=name
	MetricQueries []MetricQuery `json:"metricQueries,omitempty"`

	// JobCheck makes the outcome of a Job run in the managed cluster the check's
	// result: healthy once the Job has the condition Complete, failing with the
	// Job's Failed condition's reason and message once it fails, and failing
	// ("has not completed") while it runs. The Job is watched in the cluster (no
	// polling). Tugboat creates it, named after the check, the summary and a hash
	// of the Job manifest and of the deployed content of the feature: a new
	// deployment of the feature (its content changed) or a changed manifest
	// creates a new Job and deletes the previous one; otherwise the same Job's
	// outcome stands (a failed Job is not run again until one of them changes).
	// It excludes script, evaluateCEL, metricSource and metricQueries.
	// +optional
	JobCheck *JobCheck `json:"jobCheck,omitempty"`
}

// MetricSource is a Prometheus-compatible HTTP API.
type MetricSource struct {
	// URL is the base address of the API (http or https), e.g.
	// http://prometheus.monitoring.svc:9090; queries go to <url>/api/v1/query.
	// It must be reachable from the management cluster.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:Pattern=`^https?://`
	URL string `json:"url"`

	// SecretRef names a Secret in the management cluster holding the
	// credentials: key token (sent as a bearer token) or keys username and
	// password (basic authentication), and optionally ca.crt (PEM certificates
	// trusted for https). For a Profile the namespace defaults to the
	// Profile's; for a ClusterProfile it is required.
	// +optional
	SecretRef *corev1.SecretReference `json:"secretRef,omitempty"`

	// InsecureSkipTLSVerify skips the verification of the endpoint's
	// certificate (https only).
	// +optional
	InsecureSkipTLSVerify bool `json:"insecureSkipTLSVerify,omitempty"`
}

// MetricQuery is a named PromQL instant query.
type MetricQuery struct {
	// Name is the key of the result in the script's metrics table.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`

	// Query is the PromQL expression; it must evaluate to a scalar or to a
	// vector of exactly one sample.
	// +kubebuilder:validation:MinLength=1
	Query string `json:"query"`
}

// JobCheck is a Job whose outcome is a health check's result.
type JobCheck struct {
	// JobRef names the ConfigMap or Secret (in the management cluster) whose
	// data holds the Job manifest (one batch/v1 Job, YAML or JSON, under any
	// one key). Tugboat sets the Job's name (metadata.name is ignored); its
	// namespace is the manifest's, default when unset.
	JobRef JobRef `json:"jobRef"`
}

// JobRef references the ConfigMap or Secret holding a Job manifest.
type JobRef struct {
	// Kind of the referenced object.
	// +kubebuilder:validation:Enum=ConfigMap;Secret
	Kind string `json:"kind"`

	// Namespace of the referenced object. For a Profile it must be empty or the
	// Profile's; for a ClusterProfile, empty means the cluster's namespace.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// Name of the referenced object.
	// +kubebuilder:validation:MinLength=1
	Name string `json:"name"`
}

// ClusterInfo is the state of an action (an EventTrigger's, for example) in one cluster.
type ClusterInfo struct {
	// Cluster is the cluster this entry is about.
	Cluster corev1.ObjectReference `json:"cluster"`

	// Hash is the hash of what was last processed successfully for this cluster.
	// +optional
	Hash []byte `json:"hash,omitempty"`

	// Status is where processing stands.
	// +optional
	Status FeatureStatus `json:"status,omitempty"`

	// FailureMessage says why processing failed.
	// +optional
	FailureMessage *string `json:"failureMessage,omitempty"`
}
