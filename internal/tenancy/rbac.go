package tenancy

// The permissions the tenancy controllers need in the management cluster
// (`make generate` turns these markers into config/rbac/role.yaml). In managed
// clusters the manager acts through its kubeconfig, which must allow creating
// the tenants' ServiceAccounts, roles and bindings there and impersonating
// those ServiceAccounts.

// RoleRequests: read, finalizer, status.
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=rolerequests,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=rolerequests/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=lib.projectsveltos.io,resources=rolerequests/finalizers,verbs=update

// A tenant's profiles with deploymentType Local are deployed into the management
// cluster as the tenant admin's own ServiceAccount.
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=impersonate

// The admission policies labelling tenants' profiles (AdmissionPolicies);
// SelfSubjectReview tells the manager its own user name, excluded from them.
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=mutatingadmissionpolicies;mutatingadmissionpolicybindings;validatingadmissionpolicies;validatingadmissionpolicybindings,verbs=get;create;patch
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=selfsubjectreviews,verbs=create
