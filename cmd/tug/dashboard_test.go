package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

var (
	dashboardURL = regexp.MustCompile(`http://127\.0\.0\.1:\d+/clusters`)
	htmlTags     = regexp.MustCompile(`<[^>]*>`)
)

// `tug dashboard` serves the dashboard on loopback as the user of the
// kubeconfig context it is given (--kubeconfig, --context), prints its URL
// and exits 0 on SIGINT. A ServiceAccount allowed to read Tugboat's kinds
// sees the cluster; one without rights sees none, on a page that answers 200
// and says the read was forbidden.
func TestDashboardCommand(t *testing.T) {
	ctx := context.Background()
	create := func(obj client.Object) {
		t.Helper()
		if err := mgmt.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	const ns = "dash-cmd"
	create(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	create(&libv1beta1.SveltosCluster{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "edge", Labels: map[string]string{"tier": "edge"}}})
	create(&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "dash-cmd-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"lib.projectsveltos.io", "config.projectsveltos.io", "scheduler.kalypso.io"},
			Resources: []string{"*"}, Verbs: []string{"get", "list", "watch"}}}})
	create(&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "dash-cmd-reader"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "dash-cmd-reader"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: "reader"}}})

	// One kubeconfig: the admin's context is the current one, each
	// ServiceAccount has its own context.
	mgmtCfg := env.Management().Config
	kc := clientcmdapi.NewConfig()
	kc.Clusters["mgmt"] = &clientcmdapi.Cluster{Server: mgmtCfg.Host, CertificateAuthorityData: mgmtCfg.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: mgmtCfg.CertData, ClientKeyData: mgmtCfg.KeyData}
	kc.Contexts["admin"] = &clientcmdapi.Context{Cluster: "mgmt", AuthInfo: "admin"}
	kc.CurrentContext = "admin"
	for _, name := range []string{"reader", "nobody"} {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		create(sa)
		tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}
		if err := mgmt.SubResource("token").Create(ctx, sa, tr); err != nil {
			t.Fatalf("a token for %s: %v", name, err)
		}
		kc.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
		kc.Contexts[name] = &clientcmdapi.Context{Cluster: "mgmt", AuthInfo: name}
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, kubeconfig); err != nil {
		t.Fatal(err)
	}

	// RBAC takes a moment to reach the authorizer.
	serveAs(t, kubeconfig, "reader", func(base string) {
		testenv.Eventually(t, "the reader sees the fleet", func() error {
			status, text := fetchText(base + "/clusters")
			if status != http.StatusOK || !strings.Contains(text, "dash-cmd/edge") || !strings.Contains(text, "tier=edge") {
				return fmt.Errorf("%d: %s", status, text)
			}
			return nil
		})
	})
	serveAs(t, kubeconfig, "nobody", func(base string) {
		status, text := fetchText(base + "/clusters")
		if status != http.StatusOK || strings.Contains(text, "dash-cmd/edge") ||
			!strings.Contains(text, `sveltosclusters.lib.projectsveltos.io is forbidden: User "system:serviceaccount:dash-cmd:nobody"`) {
			t.Errorf("a user without rights: %d: %s", status, text)
		}
	})
}

// serveAs runs `tug dashboard` as a process of its own (this test binary
// run as tug) with the kubeconfig's context, calls check with its URL once
// printed, then interrupts it as Ctrl-C does and checks that it exited 0.
func serveAs(t *testing.T, kubeconfig, context string, check func(base string)) {
	t.Helper()
	var stdout, stderr testenv.LockedBuffer
	cmd := exec.Command(os.Args[0], "dashboard", "--kubeconfig", kubeconfig, "--context", context)
	cmd.Env = append(os.Environ(), runAsTug+"=1")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	var url string
	testenv.Eventually(t, "tug dashboard prints its URL", func() error {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("tug dashboard exited before serving (%v): %s%s", err, stdout.String(), stderr.String())
		default:
		}
		if url = dashboardURL.FindString(stdout.String()); url == "" {
			return fmt.Errorf("no URL in %q", stdout.String())
		}
		return nil
	})
	check(strings.TrimSuffix(url, "/clusters"))
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("tug dashboard on SIGINT: %v: %s", err, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatalf("tug dashboard did not exit on SIGINT: %s", stderr.String())
	}
	if resp, err := http.Get(url); err == nil {
		resp.Body.Close()
		t.Errorf("the dashboard still answers at %s after tug dashboard exited", url)
	}
}

// fetchText fetches a page and returns its status and its text without tags.
func fetchText(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.Join(strings.Fields(html.UnescapeString(htmlTags.ReplaceAllString(string(raw), " "))), " ")
}
