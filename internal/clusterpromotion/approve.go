package clusterpromotion

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
)

// Approve gives the approval a manual trigger waits for: approved: true on the
// trigger of stage (default: the stage the rollout is at) of ClusterPromotion
// name. It returns the stage approved and the one it promotes to. `tug promote
// approve clusterpromotion/NAME` calls it.
func Approve(ctx context.Context, c client.Client, name, stage string) (from, to string, err error) {
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		p := &configv1beta1.ClusterPromotion{}
		if err := c.Get(ctx, types.NamespacedName{Name: name}, p); err != nil {
			return fmt.Errorf("reading ClusterPromotion %s: %w", name, err)
		}
		from = stage
		if from == "" {
			from = p.Status.CurrentStageName
		}
		if from == "" {
			return fmt.Errorf("ClusterPromotion %s has not started yet: name the stage to approve", name)
		}
		i := stageIndex(p, from)
		switch {
		case i < 0:
			return fmt.Errorf("ClusterPromotion %s has no stage %s", name, from)
		case i == len(p.Spec.Stages)-1:
			return fmt.Errorf("stage %s is the last stage of ClusterPromotion %s: there is nothing to promote to", from, name)
		}
		to = p.Spec.Stages[i+1].Name
		t := p.Spec.Stages[i].Trigger
		if t == nil || t.Manual == nil {
			return fmt.Errorf("stage %s of ClusterPromotion %s promotes automatically (no manual trigger): there is nothing to approve", from, name)
		}
		if t.Manual.Approved != nil && *t.Manual.Approved {
			return nil
		}
		before := p.DeepCopy()
		yes := true
		t.Manual.Approved = &yes
		return c.Patch(ctx, p, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
	})
	if err != nil {
		return "", "", fmt.Errorf("approving ClusterPromotion %s: %w", name, err)
	}
	return from, to, nil
}
