package controller

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/gitops"
	"github.com/tugboat-dev/tugboat/internal/scheduler"
)

// Reasons of the Reported condition.
const (
	ReasonErrorsReported = "ErrorsReported"
	ReasonNoErrors       = "NoErrors"
	ReasonReportFailed   = "ReportFailed"
)

// forge returns the forge holding the GitOps repository: spec.gitea selects
// Gitea/Forgejo, spec.github GitHub; without either the repository's host
// decides (gitops.DetectForge). The token comes from the Secret the forge
// settings name.
func (r *Reconciler) forge(ctx context.Context, repo *v1alpha1.GitOpsRepo) (gitops.ForgeAPI, error) {
	spec := repo.Spec
	var opts gitops.ForgeOptions
	var tokenRef *v1alpha1.SecretKeyReference
	switch {
	case spec.GitHub != nil && spec.Gitea != nil:
		return nil, fmt.Errorf("set spec.github or spec.gitea, not both")
	case spec.Gitea != nil:
		opts.Kind, opts.APIURL, tokenRef = gitops.ForgeGitea, spec.Gitea.APIURL, spec.Gitea.TokenSecretRef
	case spec.GitHub != nil:
		opts.Kind, opts.APIURL, tokenRef = gitops.ForgeGitHub, spec.GitHub.APIURL, spec.GitHub.TokenSecretRef
	}
	if tokenRef != nil {
		key := tokenRef.Key
		if key == "" {
			key = DefaultTokenKey
		}
		secret := &corev1.Secret{}
		if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: repo.Namespace, Name: tokenRef.Name}, secret); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, fmt.Errorf("token Secret %s/%s not found", repo.Namespace, tokenRef.Name)
			}
			return nil, fmt.Errorf("reading token Secret %s/%s: %w", repo.Namespace, tokenRef.Name, err)
		}
		token, ok := secret.Data[key]
		if !ok {
			return nil, fmt.Errorf("token Secret %s/%s has no key %s", repo.Namespace, tokenRef.Name, key)
		}
		opts.Token = strings.TrimSpace(string(token))
	}
	f, err := gitops.NewForge(spec.Repo, opts)
	if err != nil {
		return nil, fmt.Errorf("pull requests need a GitHub or Gitea/Forgejo repository (or set spec.direct): %w", err)
	}
	return f, nil
}

// reportsErrors: errors go to the forge unless spec.reportErrors is false; with
// direct pushes only when a forge is configured.
func reportsErrors(repo *v1alpha1.GitOpsRepo) bool {
	if repo.Spec.ReportErrors != nil && !*repo.Spec.ReportErrors {
		return false
	}
	return !repo.Spec.Direct || repo.Spec.GitHub != nil || repo.Spec.Gitea != nil
}

// reportPending: the last report failed, so an unchanged control plane is
// scheduled again to retry it.
func reportPending(repo *v1alpha1.GitOpsRepo) bool {
	c := conditions.Get(repo, v1alpha1.ConditionReported)
	return c != nil && c.Status == metav1.ConditionFalse
}

// errorsReported: the last report listed errors, or failed (it may have).
func errorsReported(repo *v1alpha1.GitOpsRepo) bool {
	c := conditions.Get(repo, v1alpha1.ConditionReported)
	return c != nil && (c.Status == metav1.ConditionFalse || c.Reason == ReasonErrorsReported)
}

// reportErrors tells the forge about the targets that failed to render (or that
// they are fixed) once publishing succeeded (publishErr nil), and records it in
// the Reported condition. A failed report leaves Reported False, which has the
// next reconcile schedule the environment again (unchanged) and retry it.
// Without errors the forge is asked only when the last report listed some (or
// failed): the controller resolves what it reported itself.
func (r *Reconciler) reportErrors(ctx context.Context, repo *v1alpha1.GitOpsRepo, env string, res *scheduler.Result, outcome *gitops.Outcome, publishErr error) {
	if publishErr != nil {
		return // the publish is retried, and the report with it
	}
	if !reportsErrors(repo) {
		conditions.Delete(repo, v1alpha1.ConditionReported)
		return
	}
	failed := func(reason string, err error) {
		mark(repo, v1alpha1.ConditionReported, metav1.ConditionFalse, reason, fmt.Sprintf("environment %s: %v", env, err))
		log.FromContext(ctx).Info("reporting to the forge failed", "environment", env, "error", err)
	}
	if len(res.Errors) == 0 && !errorsReported(repo) {
		// Nothing reported that could need a "fixed": no forge call in the steady state.
		mark(repo, v1alpha1.ConditionReported, metav1.ConditionTrue, ReasonNoErrors, "no target failed")
		return
	}
	forge, err := r.forge(ctx, repo)
	if err != nil {
		failed(ReasonForgeConfig, err)
		return
	}
	rep, err := gitops.ReportErrors(ctx, forge, env, outcome.PullRequest, res.Errors)
	if err != nil {
		failed(ReasonReportFailed, err)
		return
	}
	status, reason, msg := metav1.ConditionTrue, ReasonNoErrors, "no target failed"
	if len(res.Errors) > 0 {
		reason = ReasonErrorsReported
		msg = fmt.Sprintf("%d failed target(s) reported in #%d", len(res.Errors), rep.Number)
		if rep.URL != "" {
			msg += " (" + rep.URL + ")"
		}
	} else if len(rep.Closed) > 0 {
		msg += fmt.Sprintf("; fixed, closed issue(s) %v", rep.Closed)
	}
	mark(repo, v1alpha1.ConditionReported, status, reason, msg)
}
