package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// The chart installs the manager as this ServiceAccount.
const (
	managerNamespace      = "projectsveltos"
	managerServiceAccount = "tugboat-manager"
	managerUser           = "system:serviceaccount:" + managerNamespace + ":" + managerServiceAccount
)

// grantChartRights gives the manager's ServiceAccount the chart's ClusterRole
// and Role (config/rbac/role.yaml, which `make chart-rbac` copies into the
// chart) and the narrow grant the tutorial's Local deployments need:
// ConfigMaps and Secrets written into the management cluster.
func grantChartRights(ctx context.Context, c client.Client) error {
	if err := clusters.EnsureNamespace(ctx, c, managerNamespace); err != nil {
		return err
	}
	roles, err := os.ReadFile(filepath.Join("..", "..", "config", "rbac", "role.yaml"))
	if err != nil {
		return err
	}
	if err := testenv.CreateObjects(ctx, c, roles, false); err != nil {
		return fmt.Errorf("creating the chart's roles: %w", err)
	}
	subject := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: managerNamespace, Name: managerServiceAccount}}
	localDeploys := &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: "tutorial-management-cluster-deploys"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps", "secrets"},
			Verbs: []string{"create", "update", "patch", "delete"}}},
	}
	objs := []client.Object{
		localDeploys,
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "tugboat-manager"}, Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "tugboat-manager"}},
		&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: managerNamespace, Name: "tugboat-manager"}, Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "tugboat-manager"}},
		&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: localDeploys.Name}, Subjects: subject,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: localDeploys.Name}},
	}
	for _, o := range objs {
		if err := c.Create(ctx, o); err != nil {
			return fmt.Errorf("creating %T %s: %w", o, o.GetName(), err)
		}
	}
	return nil
}
