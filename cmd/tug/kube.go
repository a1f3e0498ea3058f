package main

import (
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/api"
)

// loader finds the user's kubeconfig the way kubectl does.
func (g *globalOptions) loader() clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = g.kubeconfig
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: g.context})
}

// rawKubeconfig is the merged kubeconfig of the user.
func (g *globalOptions) rawKubeconfig() (*clientcmdapi.Config, error) {
	raw, err := g.loader().RawConfig()
	if err != nil {
		return nil, fmt.Errorf("reading kubeconfig: %w", err)
	}
	return &raw, nil
}

// restConfig is the management cluster's client configuration.
func (g *globalOptions) restConfig() (*rest.Config, error) {
	cfg, err := g.loader().ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("no management cluster: %w (set --kubeconfig or KUBECONFIG)", err)
	}
	return cfg, nil
}

// client is a client of the management cluster that knows Tugboat's types.
func (g *globalOptions) client() (client.Client, error) {
	cfg, err := g.restConfig()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: api.NewScheme()})
	if err != nil {
		return nil, fmt.Errorf("connecting to the management cluster %s: %w", cfg.Host, err)
	}
	return c, nil
}
