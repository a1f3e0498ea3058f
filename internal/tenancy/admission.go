package tenancy

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// TenantLabelsPolicy names the MutatingAdmissionPolicy that labels the profiles
// a tenant creates with the tenant's identity, and the ValidatingAdmissionPolicy
// that refuses a tenant's profile naming another identity (their bindings have
// the same names).
const TenantLabelsPolicy = "tugboat-tenant-labels"

// AdmissionPolicies installs, in the management cluster, the admission policies
// that make every ClusterProfile and Profile a tenant creates or updates carry
// the tenant's own identity (projectsveltos.io/serviceaccount-name/-namespace):
// the API server itself labels them when the labels are missing
// (MutatingAdmissionPolicy) and refuses labels naming anyone else
// (ValidatingAdmissionPolicy), so a tenant cannot deploy as the
// manager or as another tenant. A tenant is a ServiceAccount that may not create
// RoleRequests (those that may are platform admins) and is not the manager.
type AdmissionPolicies struct {
	Client client.Client
}

// Start installs the policies once (a manager runnable); they are applied with
// server-side apply, so a restart repairs a changed one.
func (a *AdmissionPolicies) Start(ctx context.Context) error {
	if err := a.install(ctx); err != nil {
		// The manager keeps running (profiles without a tenant are unaffected),
		// but says loudly that tenants' labels are not enforced.
		log.FromContext(ctx).WithName("tenancy").Error(err, "tenants' profiles are NOT labelled with their identity: "+
			"the admission policies could not be installed", "policy", TenantLabelsPolicy)
	}
	return nil
}

func (a *AdmissionPolicies) install(ctx context.Context) error {
	review := &authenticationv1.SelfSubjectReview{}
	if err := a.Client.Create(ctx, review); err != nil {
		return fmt.Errorf("asking the management cluster who the manager is (SelfSubjectReview): %w", err)
	}
	objs := tenantLabelPolicies(review.Status.UserInfo.Username)
	for _, obj := range objs {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return err
		}
		u := &unstructured.Unstructured{Object: m}
		unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
		if err := a.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(fieldOwner), client.ForceOwnership); err != nil {
			return fmt.Errorf("installing admission %s %s: %w", u.GetKind(), u.GetName(), err)
		}
	}
	log.FromContext(ctx).WithName("tenancy").Info("tenant label admission policies installed", "policy", TenantLabelsPolicy,
		"manager", review.Status.UserInfo.Username)
	return nil
}

// NeedLeaderElection: every replica may install the (identical) policies.
func (a *AdmissionPolicies) NeedLeaderElection() bool { return false }

// tenantLabelPolicies are the admission policies and bindings, excluding the
// manager's own user name.
func tenantLabelPolicies(managerUser string) []runtime.Object {
	match := &admissionv1.MatchResources{
		ResourceRules: []admissionv1.NamedRuleWithOperations{{RuleWithOperations: admissionv1.RuleWithOperations{
			Operations: []admissionv1.OperationType{admissionv1.Create, admissionv1.Update},
			Rule: admissionv1.Rule{
				APIGroups:   []string{configv1beta1.GroupVersion.Group},
				APIVersions: []string{"*"},
				Resources:   []string{"clusterprofiles", "profiles"},
			},
		}}},
	}
	conditions := []admissionv1.MatchCondition{
		{Name: "service-account", Expression: "request.userInfo.username.startsWith('system:serviceaccount:')"},
		{Name: "not-tugboat", Expression: "request.userInfo.username != " + strconv.Quote(managerUser)},
		{Name: "not-platform-admin", Expression: "!authorizer.group('" + libv1beta1.GroupVersion.Group +
			"').resource('rolerequests').check('create').allowed()"},
	}
	variables := []admissionv1.Variable{
		{Name: "tenantNamespace", Expression: "request.userInfo.username.split(':')[2]"},
		{Name: "tenantName", Expression: "request.userInfo.username.split(':')[3]"},
	}
	fail := admissionv1.Fail
	nameLabel, nsLabel := libv1beta1.ServiceAccountNameLabel, libv1beta1.ServiceAccountNamespaceLabel
	// The labels are added when missing (as Sveltos' suggested Kyverno policy
	// does); labels naming another identity are refused by the validating policy.
	missing := admissionv1.MatchCondition{Name: "identity-labels-missing", Expression: fmt.Sprintf(
		"!has(object.metadata.labels) || !(%q in object.metadata.labels) || !(%q in object.metadata.labels)", nameLabel, nsLabel)}
	mutating := &admissionv1.MutatingAdmissionPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "MutatingAdmissionPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: TenantLabelsPolicy},
		Spec: admissionv1.MutatingAdmissionPolicySpec{
			MatchConstraints: match, MatchConditions: append(slices.Clone(conditions), missing), Variables: variables, FailurePolicy: &fail,
			ReinvocationPolicy: admissionv1.IfNeededReinvocationPolicy,
			Mutations: []admissionv1.Mutation{{
				PatchType: admissionv1.PatchTypeApplyConfiguration,
				ApplyConfiguration: &admissionv1.ApplyConfiguration{Expression: fmt.Sprintf(
					"Object{metadata: Object.metadata{labels: {%q: variables.tenantName, %q: variables.tenantNamespace}}}", nameLabel, nsLabel)},
			}},
		},
	}
	mutatingBinding := &admissionv1.MutatingAdmissionPolicyBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "MutatingAdmissionPolicyBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: TenantLabelsPolicy},
		Spec:       admissionv1.MutatingAdmissionPolicyBindingSpec{PolicyName: TenantLabelsPolicy},
	}
	validating := &admissionv1.ValidatingAdmissionPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "ValidatingAdmissionPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: TenantLabelsPolicy},
		Spec: admissionv1.ValidatingAdmissionPolicySpec{
			MatchConstraints: match, MatchConditions: conditions, Variables: variables, FailurePolicy: &fail,
			Validations: []admissionv1.Validation{{
				Expression: fmt.Sprintf("has(object.metadata.labels) && %[1]q in object.metadata.labels && %[2]q in object.metadata.labels && "+
					"object.metadata.labels[%[1]q] == variables.tenantName && object.metadata.labels[%[2]q] == variables.tenantNamespace", nameLabel, nsLabel),
				MessageExpression: fmt.Sprintf("'a tenant may only create or change profiles as itself: labels %s and %s must name its service account ' + "+
					"variables.tenantNamespace + '/' + variables.tenantName", nsLabel, nameLabel),
				Reason: ptr(metav1.StatusReasonForbidden),
			}},
		},
	}
	validatingBinding := &admissionv1.ValidatingAdmissionPolicyBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: admissionv1.SchemeGroupVersion.String(), Kind: "ValidatingAdmissionPolicyBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: TenantLabelsPolicy},
		Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: TenantLabelsPolicy,
			ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny}},
	}
	return []runtime.Object{mutating, mutatingBinding, validating, validatingBinding}
}
