package profiles

import (
	"context"
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/remote"
)

// refetchRemote brings the summary back when the shortest interval of its
// remoteURLs (policyRefs and kustomizationRefs) has passed, so that their
// content is fetched again (unless the result already asks to come back sooner).
func refetchRemote(s *configv1beta1.ClusterSummary, result ctrl.Result) ctrl.Result {
	spec := &s.Spec.ClusterProfileSpec
	refs := make([]*libv1beta1.RemoteURL, 0, len(spec.PolicyRefs)+len(spec.KustomizationRefs))
	for _, ref := range spec.PolicyRefs {
		refs = append(refs, ref.RemoteURL)
	}
	for _, ref := range spec.KustomizationRefs {
		refs = append(refs, ref.RemoteURL)
	}
	for _, ref := range refs {
		if ref == nil {
			continue
		}
		if every := remote.Interval(*ref); result.RequeueAfter == 0 || every < result.RequeueAfter {
			result.RequeueAfter = every
		}
	}
	return result
}

// remoteSecretInProfileNamespace refuses a Profile's secretRef outside the
// Profile's namespace: the manager would otherwise send any Secret it can
// read to any URL. profileNamespace is empty for a ClusterProfile.
func remoteSecretInProfileNamespace(ref libv1beta1.RemoteURL, where, profileNamespace string) error {
	if sr := ref.SecretRef; profileNamespace != "" && sr != nil && sr.Namespace != "" && sr.Namespace != profileNamespace {
		return renderError{fmt.Errorf("%s.remoteURL.secretRef: Secret %s/%s is outside the Profile's namespace %s", where, sr.Namespace, sr.Name, profileNamespace)}
	}
	return nil
}

// remoteArchiveName is the file name a kustomizationRef's fetched archive is
// built from: the kustomize engine unpacks a .tar.gz entry (gzip-compressed or
// plain tar) at the root of the source.
const remoteArchiveName = "remoteURL.tar.gz"

// remoteArchive returns the content of a kustomizationRef's remoteURL (where
// names the ref), from the reconciler's cache of remote content.
func (r *SummaryReconciler) remoteArchive(ctx context.Context, ref libv1beta1.RemoteURL, where, defaultNS, profileNamespace string) ([]byte, error) {
	if err := remoteSecretInProfileNamespace(ref, where, profileNamespace); err != nil {
		return nil, err
	}
	body, err := r.remoteContent.Get(ctx, r.Client, ref, defaultNS)
	if err != nil {
		// Not retried with backoff: the next fetch comes at the ref's interval
		// (refetchRemote) or with the next reconcile; a failure is not cached.
		return nil, renderError{fmt.Errorf("%s.remoteURL: %w", where, err)}
	}
	if !isTarArchive(body) {
		start := body[:min(len(body), 32)]
		return nil, renderError{fmt.Errorf("%s.remoteURL: GET %s: the content is not a tar archive, gzip-compressed or not (it starts with %q)", where, ref.URL, start)}
	}
	return body, nil
}

// isTarArchive says whether content is gzip-compressed (the archive itself is
// checked when unpacked) or a plain tar archive (the ustar magic of its first header).
func isTarArchive(content []byte) bool {
	if len(content) >= 2 && content[0] == 0x1f && content[1] == 0x8b {
		return true
	}
	return len(content) >= 262 && string(content[257:262]) == "ustar"
}
