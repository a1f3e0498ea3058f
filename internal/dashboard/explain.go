package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/explain"
)

type explainData struct {
	Explanation explain.Explanation
	// Stop is the deciding step (nil: the profile reaches), StopNumber its number from 1.
	Stop        *explain.Step
	StopNumber  int
	ProfileLink string
	ClusterLink string
	// Inputs are the explanation's inputs, with links to their producers.
	Inputs []InputRow
}

// explainPage serves /explain?profile=ClusterProfile/NAME|Profile/NS/NAME&cluster=NS/NAME|capi:NS/NAME:
// the explanation internal/explain computes, as `tug explain` prints it.
func (s *Server) explainPage(req *http.Request) (string, any, error) {
	q := req.URL.Query()
	ref, err := parseProfile(q.Get("profile"))
	if err != nil {
		return "Explain", nil, errBadRequest{err}
	}
	id, err := parseCluster(q.Get("cluster"))
	if err != nil {
		return "Explain", nil, errBadRequest{err}
	}
	title := "Explain " + ref.String() + " for " + id.String()
	in, err := explain.Load(req.Context(), s.fleet(req), ref, id)
	if apierrors.IsNotFound(err) {
		return title, nil, errNotFound{ref.String()}
	}
	if err != nil {
		return title, nil, err
	}
	d := explainData{Explanation: explain.Explain(in), ProfileLink: profileLink(ref), ClusterLink: clusterLink(id)}
	d.Inputs = inputRows(d.Explanation.Inputs)
	if d.Stop = d.Explanation.Stop(); d.Stop != nil {
		for i := range d.Explanation.Steps {
			if &d.Explanation.Steps[i] == d.Stop {
				d.StopNumber = i + 1
			}
		}
	}
	return title, d, nil
}

// parseProfile reads ClusterProfile/NAME or Profile/NAMESPACE/NAME, as
// ProfileRef.String writes them.
func parseProfile(s string) (configv1beta1.ProfileRef, error) {
	parts := strings.Split(s, "/")
	switch {
	case len(parts) == 2 && parts[0] == configv1beta1.ClusterProfileKind && parts[1] != "":
		return configv1beta1.ProfileRef{Kind: configv1beta1.ClusterProfileKind, Name: parts[1]}, nil
	case len(parts) == 3 && parts[0] == configv1beta1.ProfileKind && parts[1] != "" && parts[2] != "":
		return configv1beta1.ProfileRef{Kind: configv1beta1.ProfileKind, Namespace: parts[1], Name: parts[2]}, nil
	}
	return configv1beta1.ProfileRef{}, fmt.Errorf("profile %q: want ClusterProfile/NAME or Profile/NAMESPACE/NAME", s)
}

// parseCluster reads NAMESPACE/NAME (a SveltosCluster) or capi:NAMESPACE/NAME.
func parseCluster(s string) (libv1beta1.ClusterID, error) {
	rest, capi := strings.CutPrefix(s, "capi:")
	ns, name, ok := strings.Cut(rest, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return libv1beta1.ClusterID{}, errors.New("cluster " + fmt.Sprintf("%q", s) + ": want NAMESPACE/NAME, or capi:NAMESPACE/NAME for a Cluster API cluster")
	}
	if capi {
		return libv1beta1.CAPIClusterID(ns, name), nil
	}
	return libv1beta1.SveltosClusterID(ns, name), nil
}
