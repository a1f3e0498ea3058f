package dashboard

// In the kubernetes authentication mode (AuthKubernetes) the dashboard checks
// each user's token with a TokenReview and each read with a
// SubjectAccessReview against the management cluster.

// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create
