package helm

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// RESTClientGetter hands Helm clients for one cluster described by a *rest.Config.
// It implements genericclioptions.RESTClientGetter without any kubeconfig file:
// discovery is cached in memory for the getter's lifetime and the REST mapper is
// resettable, so Helm can refresh it after installing CRDs.
type RESTClientGetter struct {
	config    *rest.Config
	namespace string
	discovery discovery.CachedDiscoveryInterface
	mapper    meta.ResettableRESTMapper
}

// NewRESTClientGetter returns a getter for the cluster behind config whose default
// namespace is namespace.
func NewRESTClientGetter(config *rest.Config, namespace string) (*RESTClientGetter, error) {
	if config == nil {
		return nil, fmt.Errorf("rest config is nil")
	}
	cfg := rest.CopyConfig(config)
	// Helm lists and applies many kinds in a row; the client-go defaults (5 QPS)
	// would throttle a single install noticeably.
	if cfg.QPS == 0 {
		cfg.QPS = 50
	}
	if cfg.Burst == 0 {
		cfg.Burst = 100
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("discovery client for %s: %w", cfg.Host, err)
	}
	cached := memory.NewMemCacheClient(dc)
	return &RESTClientGetter{
		config:    cfg,
		namespace: namespace,
		discovery: cached,
		mapper:    restmapper.NewDeferredDiscoveryRESTMapper(cached),
	}, nil
}

// ToRESTConfig returns a copy of the cluster's configuration.
func (g *RESTClientGetter) ToRESTConfig() (*rest.Config, error) {
	return rest.CopyConfig(g.config), nil
}

// ToDiscoveryClient returns the memory-cached discovery client.
func (g *RESTClientGetter) ToDiscoveryClient() (discovery.CachedDiscoveryInterface, error) {
	return g.discovery, nil
}

// ToRESTMapper returns the discovery-backed, resettable REST mapper.
func (g *RESTClientGetter) ToRESTMapper() (meta.RESTMapper, error) {
	return g.mapper, nil
}

// ToRawKubeConfigLoader returns a loader whose only useful answers are the
// configuration and the default namespace; nothing is read from disk.
func (g *RESTClientGetter) ToRawKubeConfigLoader() clientcmd.ClientConfig {
	return memoryClientConfig{getter: g}
}

// memoryClientConfig is a clientcmd.ClientConfig backed by the getter.
type memoryClientConfig struct {
	getter *RESTClientGetter
}

func (m memoryClientConfig) RawConfig() (clientcmdapi.Config, error) {
	cfg := m.getter.config
	const name = "tugboat"
	raw := clientcmdapi.NewConfig()
	raw.Clusters[name] = clusters.KubeconfigCluster(cfg)
	raw.AuthInfos[name] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData,
		ClientKeyData:         cfg.KeyData,
		Token:                 cfg.BearerToken,
		Username:              cfg.Username,
		Password:              cfg.Password,
	}
	raw.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name, Namespace: m.getter.namespace}
	raw.CurrentContext = name
	return *raw, nil
}

func (m memoryClientConfig) ClientConfig() (*rest.Config, error) {
	return rest.CopyConfig(m.getter.config), nil
}

func (m memoryClientConfig) Namespace() (string, bool, error) {
	if m.getter.namespace == "" {
		return "default", false, nil
	}
	return m.getter.namespace, true, nil
}

func (m memoryClientConfig) ConfigAccess() clientcmd.ConfigAccess {
	// An empty set of loading rules: no precedence list, no explicit file.
	return &clientcmd.ClientConfigLoadingRules{}
}
