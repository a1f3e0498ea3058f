package profiles

import (
	"fmt"
	"strings"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/templating"
)

// renderPatches renders the profile's patches as profile-stage templates (with
// .Cluster and the templateResourceRefs): a patch can name the cluster, its
// labels, a value read from the management cluster. A patch without "{{" is
// kept as written. Errors name the patch.
func renderPatches(patches []libv1beta1.Patch, ctx templating.ProfileContext) ([]libv1beta1.Patch, error) {
	if len(patches) == 0 {
		return nil, nil
	}
	out := make([]libv1beta1.Patch, len(patches))
	for i, p := range patches {
		out[i] = *p.DeepCopy()
		if !strings.Contains(p.Patch, "{{") {
			continue
		}
		text, err := ctx.Render(fmt.Sprintf("patches[%d]", i), p.Patch)
		if err != nil {
			return nil, renderError{err}
		}
		out[i].Patch = text
	}
	return out, nil
}

// patches are the rendered patches of the Resources feature.
func (in *inputs) patches() ([]libv1beta1.Patch, error) {
	return renderPatches(in.spec.Patches, templating.NewProfileContext(in.cluster, in.mgmtResources))
}

// patches are the rendered patches of the Kustomize feature.
func (in *kustomizeInputs) patches() ([]libv1beta1.Patch, error) {
	return renderPatches(in.spec.Patches, templating.NewProfileContext(in.cluster, nil))
}
