package clusters

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// KubeconfigForContext extracts one context of a kubeconfig as a self-contained
// kubeconfig: only that context, its cluster and user, with certificate files
// embedded, so it works from a Secret in another cluster.
func KubeconfigForContext(cfg *clientcmdapi.Config, contextName string) ([]byte, error) {
	if _, ok := cfg.Contexts[contextName]; !ok {
		names := make([]string, 0, len(cfg.Contexts))
		for n := range cfg.Contexts {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("context %q not found in the kubeconfig (contexts: %s)", contextName, strings.Join(names, ", "))
	}
	out := cfg.DeepCopy()
	out.CurrentContext = contextName
	if err := clientcmdapi.MinifyConfig(out); err != nil {
		return nil, fmt.Errorf("extracting context %q: %w", contextName, err)
	}
	if err := clientcmdapi.FlattenConfig(out); err != nil {
		return nil, fmt.Errorf("embedding the credentials of context %q: %w", contextName, err)
	}
	if err := clientcmd.Validate(*out); err != nil {
		return nil, fmt.Errorf("context %q is incomplete: %w", contextName, err)
	}
	return clientcmd.Write(*out)
}

// KubeconfigCluster is the kubeconfig cluster entry that reaches the API server
// of cfg as cfg does: its address, CA data, TLS server name and whether TLS is
// verified. The CA is taken from CAData: load cfg's TLS files first.
func KubeconfigCluster(cfg *rest.Config) *clientcmdapi.Cluster {
	return &clientcmdapi.Cluster{
		Server:                   cfg.Host,
		CertificateAuthorityData: cfg.CAData,
		InsecureSkipTLSVerify:    cfg.Insecure,
		TLSServerName:            cfg.ServerName,
	}
}

// ParseLabels parses "k=v,k2=v2" into labels, rejecting malformed pairs, invalid
// keys and invalid values with a message naming them.
func ParseLabels(s string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("label %q is not of the form key=value", pair)
		}
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			return nil, fmt.Errorf("label key %q is invalid: %s", k, strings.Join(errs, "; "))
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return nil, fmt.Errorf("label value %q of %q is invalid: %s", v, k, strings.Join(errs, "; "))
		}
		out[k] = v
	}
	return out, nil
}
