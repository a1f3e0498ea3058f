package deployer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// ConflictError is returned (possibly joined with others) when another profile
// keeps an object and the request does not continue on conflict.
type ConflictError struct{ Conflict Conflict }

func (e *ConflictError) Error() string { return e.Conflict.Message }

// Apply deploys req.Objects with server-side apply and, when everything
// succeeded, deletes the objects of req.Previous that are no longer desired and
// still carry this owner's metadata. With req.DryRun it changes nothing and fills
// Result.Report instead. The first error (or conflict, unless ContinueOnConflict)
// stops the rest unless ContinueOnError; the returned error joins all errors, each
// naming its object.
//
// Objects go in the order given, in segments: an object that later objects may
// need at admission (a cluster-scoped object such as a Namespace or a
// CustomResourceDefinition, one of orderedKinds, or one whose kind is not
// served yet, e.g. the custom resource of a CRD applied before it) is applied
// alone, after everything before it and before everything after it. The
// namespaced objects between two such objects are read concurrently (so a
// conflict stops what follows before anything is written) and, with
// ContinueOnError, written concurrently, at most Deployer.Parallelism at a time;
// without it they are written one by one and the first failure stops the rest.
// Result lists objects in the order given whatever order they were sent in.
//
// An object of req.Recorded whose recorded hash differs from the desired one
// is not read: it is applied on condition of its recorded resourceVersion, and
// read only when the API server refuses that (it changed since), then decided
// on as any other object. Its conflict, if any, is therefore found when its
// turn to be written comes, and stops what follows as a conflict found by a
// read does.
func (d *Deployer) Apply(ctx context.Context, c client.Client, req Request) (Result, error) {
	if req.Owner.Kind == "" || req.Owner.Name == "" {
		return Result{}, errors.New("deployer: request has no owner kind and name")
	}
	if req.Feature == "" {
		return Result{}, fmt.Errorf("deployer: request of %s has no feature", req.Owner)
	}
	r := &run{d: d, c: c, req: &req, namespaces: map[string]bool{}, desired: map[string]bool{}}
	if !req.DryRun && !req.Reapply {
		r.recorded = make(map[string]Version, len(req.Recorded))
		for _, rec := range req.Recorded {
			r.recorded[rec.Ref.key()] = rec.Version
		}
	}
	steps := make([]step, len(req.Objects))
	for i := range req.Objects {
		steps[i] = r.prepareStep(&req.Objects[i])
	}
	if req.BeforeWrite != nil && !req.DryRun {
		if err := req.BeforeWrite(ctx, stepRefs(steps)); err != nil {
			return Result{}, fmt.Errorf("recording the objects of %s before writing them: %w", req.Owner, err)
		}
	}
	var errs []error
	for _, seg := range segments(len(steps), func(i int) bool { return steps[i].alone() }) {
		errs = append(errs, r.segment(ctx, steps[seg[0]:seg[1]])...)
		if len(errs) > 0 && !req.ContinueOnError {
			break
		}
	}
	if len(errs) > 0 {
		return r.res, errors.Join(errs...)
	}
	return r.res, r.cleanStale(ctx)
}

// stepRefs are the objects steps may write: prepared (as they will be
// applied), or, for a kind not served yet, as given.
func stepRefs(steps []step) []ObjectRef {
	var out []ObjectRef
	for _, st := range steps {
		switch {
		case st.obj != nil:
			out = append(out, RefOf(st.obj))
		case st.unserved:
			out = append(out, RefOf(st.want.Object))
		}
	}
	return out
}

// orderedKinds are namespaced kinds that admission of later objects can depend
// on (a Pod names its ServiceAccount; LimitRanges and ResourceQuotas apply to
// what is created after them): they are applied alone, in their place.
var orderedKinds = map[string]bool{"ServiceAccount": true, "LimitRange": true, "ResourceQuota": true}

// step is one desired object, prepared for applying.
type step struct {
	want       *Desired
	obj        *unstructured.Unstructured
	namespaced bool
	err        error // preparing it failed
	// unserved: its kind was not served when the request was prepared (its CRD
	// may come earlier in the request); it is prepared again at its turn.
	unserved bool
}

// alone tells whether the step must be applied on its own, in its place.
func (s *step) alone() bool {
	return s.unserved || s.err == nil && (!s.namespaced || orderedKinds[s.obj.GetKind()])
}

// segments cuts n items into consecutive [from, to) ranges: each item for which
// alone is true is a range of its own, the items between them share one.
func segments(n int, alone func(int) bool) [][2]int {
	var out [][2]int
	start := 0
	for i := range n {
		if alone(i) {
			if start < i {
				out = append(out, [2]int{start, i})
			}
			out = append(out, [2]int{i, i + 1})
			start = i + 1
		}
	}
	if start < n {
		out = append(out, [2]int{start, n})
	}
	return out
}

// prepareStep prepares want and records it as desired.
func (r *run) prepareStep(want *Desired) step {
	if want.Object == nil {
		return step{want: want, err: errors.New("deployer: nil object")}
	}
	obj, namespaced, err := r.prepare(want)
	if err != nil {
		return step{want: want, err: err, unserved: meta.IsNoMatchError(err)}
	}
	r.desired[RefOf(obj).key()] = true
	return step{want: want, obj: obj, namespaced: namespaced}
}

// segment applies steps: the namespaces they need first, in order; then it
// plans them, reading the live objects (concurrently: nothing is written yet;
// recorded objects with new content are not read), so that a conflict stops
// the objects after it before any of them is written; then it
// writes them, concurrently with ContinueOnError, else one by one up to the
// first failure. It returns the errors in the order of the steps.
func (r *run) segment(ctx context.Context, steps []step) []error {
	errs := make([]error, len(steps))
	todo := make([]bool, len(steps))
	for i := range steps {
		if steps[i].unserved { // what came before it has been applied: try again
			steps[i] = r.prepareStep(steps[i].want)
		}
		if errs[i] = steps[i].err; errs[i] != nil {
			if !r.req.ContinueOnError {
				return compact(errs)
			}
			continue
		}
		ok, err := r.namespaceFor(ctx, &steps[i])
		if errs[i] = err; err != nil && !r.req.ContinueOnError {
			return compact(errs)
		}
		todo[i] = ok && err == nil
	}
	// Each object gets a run of its own; their results join r's in the order given.
	subs := make([]*run, len(steps))
	for i := range steps {
		if todo[i] {
			subs[i] = &run{d: r.d, c: r.c, req: r.req, namespaces: r.namespaces, recorded: r.recorded}
		}
	}
	defer func() {
		for _, sub := range subs {
			if sub != nil {
				r.res.merge(sub.res)
			}
		}
	}()
	plans := make([]plan, len(steps))
	r.each(todo, false, func(i int) error {
		plans[i], errs[i] = subs[i].plan(ctx, &steps[i])
		return errs[i]
	})
	for i := range steps {
		if errs[i] != nil && !r.req.ContinueOnError {
			clear(todo[i:])
			break
		}
		todo[i] = todo[i] && errs[i] == nil && !plans[i].done
	}
	r.each(todo, !r.req.ContinueOnError, func(i int) error {
		errs[i] = subs[i].write(ctx, &steps[i], plans[i])
		return errs[i]
	})
	return compact(errs)
}

// each calls fn for every index where todo is true, at most Parallelism at a
// time. With stopOnError the calls go one by one, in order, and stop at the
// first that fails (so that nothing after a failing object is written).
func (r *run) each(todo []bool, stopOnError bool, fn func(int) error) {
	var n int
	for _, t := range todo {
		if t {
			n++
		}
	}
	parallelism := r.d.parallelism()
	if n <= 1 || parallelism == 1 || stopOnError {
		for i, t := range todo {
			if t && fn(i) != nil && stopOnError {
				return
			}
		}
		return
	}
	var failed atomic.Bool
	var wg sync.WaitGroup
	slots := make(chan struct{}, parallelism)
	for i, t := range todo {
		if !t {
			continue
		}
		slots <- struct{}{}
		if stopOnError && failed.Load() {
			<-slots
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			if fn(i) != nil {
				failed.Store(true)
			}
		}()
	}
	wg.Wait()
}

// compact drops the nil errors.
func compact(errs []error) []error {
	return slices.DeleteFunc(errs, func(err error) bool { return err == nil })
}

// merge adds what another run of the same request did.
func (res *Result) merge(o Result) {
	res.Deployed = append(res.Deployed, o.Deployed...)
	res.Removed = append(res.Removed, o.Removed...)
	res.Conflicts = append(res.Conflicts, o.Conflicts...)
	res.Preempted = append(res.Preempted, o.Preempted...)
	for ref, v := range o.Versions {
		res.version(ref, v)
	}
	res.Unchanged += o.Unchanged
	res.Writes += o.Writes
	res.Reads += o.Reads
	res.Report = append(res.Report, o.Report...)
}

// version records v as ref's Version.
func (res *Result) version(ref ObjectRef, v Version) {
	if res.Versions == nil {
		res.Versions = map[ObjectRef]Version{}
	}
	res.Versions[ref] = v
}

// namespaceFor makes sure the namespace of st exists, unless the request says
// not to, and tells whether its object should be applied (in a dry run, an
// object whose namespace would be created is reported as created instead).
func (r *run) namespaceFor(ctx context.Context, st *step) (bool, error) {
	if !st.namespaced || st.want.SkipNamespaceCreation || r.req.SkipNamespaceCreation {
		return true, nil
	}
	ref := RefOf(st.obj)
	exists, err := r.ensureNamespace(ctx, st.obj.GetNamespace(), ref)
	if err != nil {
		return false, err
	}
	if !exists { // dry run: nothing to compare with, the namespace would be created
		r.report(ref, configv1beta1.ReportActionCreate, "")
		return false, nil
	}
	return true, nil
}

// run is the state of one Apply.
type run struct {
	d          *Deployer
	c          client.Client
	req        *Request
	res        Result
	namespaces map[string]bool // namespace -> exists (or would exist); read-only while a segment's objects go concurrently
	desired    map[string]bool // ObjectRef.key() of every desired object seen
	// recorded is Request.Recorded by ObjectRef.key(); nil in a dry run or
	// with Reapply (every object is read then). Read-only.
	recorded map[string]Version
}

// get reads key into obj and counts the request.
func (r *run) get(ctx context.Context, key client.ObjectKey, obj client.Object) error {
	r.res.Reads++
	return r.c.Get(ctx, key, obj)
}

// plan is what reading the live object (or the record) decided for one step.
type plan struct {
	live      *unstructured.Unstructured // nil when the object does not exist (or was not read)
	preempted *Preemption
	done      bool // nothing to write: up to date, or a conflict the request goes on past
	// unreadAt, when set, is the resourceVersion this owner last applied the
	// object at, with content other than the desired: it is applied without
	// reading it, on condition that it is still at that version.
	unreadAt string
}

// plan decides what to do with st: apply a recorded object whose content
// changed without reading it (see Request.Recorded), or read it and decide.
func (r *run) plan(ctx context.Context, st *step) (plan, error) {
	if v, ok := r.recorded[RefOf(st.obj).key()]; ok && v.ResourceVersion != "" && v.Hash != "" &&
		v.Hash != st.obj.GetAnnotations()[libv1beta1.HashAnnotation] {
		return plan{unreadAt: v.ResourceVersion}, nil
	}
	return r.read(ctx, st)
}

// read reads the live object of st and decides: up to date, held by another
// profile (a conflict), taken over, or to be written.
func (r *run) read(ctx context.Context, st *step) (plan, error) {
	obj, want := st.obj, st.want
	ref := RefOf(obj)
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(obj.GroupVersionKind())
	switch err := r.get(ctx, client.ObjectKeyFromObject(obj), live); {
	case apierrors.IsNotFound(err):
		return plan{}, nil
	case err != nil:
		return plan{}, fmt.Errorf("reading %s: %w", ref, err)
	}
	p := plan{live: live}
	if h, owned := holderOf(live); owned && !h.is(r.req.Owner) {
		ours := effectiveTier(r.req.Owner, want.Source)
		if !TakesOver(ours, h.tier) {
			return plan{done: true}, r.conflict(ref, h, ours)
		}
		p.preempted = &Preemption{Object: ref, Loser: h.owner, Feature: h.feature}
	} else if owned && !r.req.Reapply && live.GetDeletionTimestamp() == nil &&
		live.GetAnnotations()[libv1beta1.HashAnnotation] == obj.GetAnnotations()[libv1beta1.HashAnnotation] {
		r.res.Unchanged++
		r.res.Deployed = append(r.res.Deployed, ref)
		r.res.version(ref, versionOf(live))
		r.report(ref, configv1beta1.ReportActionNoAction, "")
		return plan{done: true}, nil
	}
	return p, nil
}

// write applies (or, in a dry run, reports) st as p decided.
func (r *run) write(ctx context.Context, st *step, p plan) error {
	if r.req.DryRun {
		return r.dryRun(ctx, st.obj, p.live, p.preempted)
	}
	force := st.want.Force || r.req.Force
	var applied *unstructured.Unstructured
	var err error
	switch {
	case p.unreadAt == "":
		applied, err = r.apply(ctx, st.obj, p.live, force)
	default:
		applied, err = r.applyUnread(ctx, st.obj, p.unreadAt)
		if err == nil {
			break
		}
		refused := err
		recreate := force && isImmutableError(refused)
		if !recreate && !changedSinceRecorded(refused) {
			return fmt.Errorf("applying %s: %w", RefOf(st.obj), refused)
		}
		// Changed since this owner applied it (edited, taken over, deleted),
		// or to be recreated: decide from what it is now.
		if p, err = r.read(ctx, st); err != nil || p.done {
			return err
		}
		if recreate && p.live != nil {
			applied, err = r.recreate(ctx, st.obj, p.live, refused)
		} else {
			applied, err = r.apply(ctx, st.obj, p.live, force)
		}
	}
	if err != nil {
		return err
	}
	r.deployed(st.obj, applied, p.preempted)
	return nil
}

// deployed adds obj, as the API server answered its apply, to the result.
func (r *run) deployed(obj, applied *unstructured.Unstructured, preempted *Preemption) {
	ref := RefOf(obj)
	r.res.Deployed = append(r.res.Deployed, ref)
	r.res.version(ref, versionOf(applied))
	if preempted != nil {
		r.res.Preempted = append(r.res.Preempted, *preempted)
	}
}

// versionOf is the Version of u.
func versionOf(u *unstructured.Unstructured) Version {
	return Version{UID: u.GetUID(), ResourceVersion: u.GetResourceVersion(),
		Hash: u.GetAnnotations()[libv1beta1.HashAnnotation]}
}

// applyUnread server-side applies obj on condition that the object is still
// at resourceVersion (the API server compares it with the stored object's and
// answers 409 Conflict when they differ). When the object no longer exists the
// API server ignores the resourceVersion and creates it, which is what reading
// it first would have led to as well.
func (r *run) applyUnread(ctx context.Context, obj *unstructured.Unstructured, resourceVersion string) (*unstructured.Unstructured, error) {
	at := obj.DeepCopy()
	at.SetResourceVersion(resourceVersion)
	return r.serverSideApply(ctx, at)
}

// changedSinceRecorded tells whether an apply conditioned on a recorded
// resourceVersion failed because the object is no longer that version: it
// changed (409 Conflict) or went away while the request was served (404).
func changedSinceRecorded(err error) bool {
	return apierrors.IsConflict(err) || apierrors.IsNotFound(err)
}

// prepare returns the object to apply: patched, without excluded paths, with the
// namespace the REST mapping calls for, decorated with ownership metadata and hash.
func (r *run) prepare(want *Desired) (*unstructured.Unstructured, bool, error) {
	in := RefOf(want.Object)
	if in.APIVersion == "" || in.Kind == "" || in.Name == "" {
		return nil, false, fmt.Errorf("deployer: object %q needs apiVersion, kind and metadata.name", in.String())
	}
	obj, err := ApplyPatches(want.Object, r.req.Patches)
	if err != nil {
		return nil, false, fmt.Errorf("patching %s: %w", in, err)
	}
	if obj, err = ApplyDriftExclusions(obj, r.req.DriftExclusions); err != nil {
		return nil, false, fmt.Errorf("excluding drift paths of %s: %w", in, err)
	}
	cleanDesired(obj)
	gvk := obj.GroupVersionKind()
	mapping, err := r.c.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, false, fmt.Errorf("%s: finding its resource in the cluster: %w", in, err)
	}
	namespaced := mapping.Scope.Name() == meta.RESTScopeNameNamespace
	switch {
	case namespaced && obj.GetNamespace() == "":
		return nil, false, fmt.Errorf("%s: %s is namespaced but the object has no namespace", in, gvk.Kind)
	case !namespaced:
		obj.SetNamespace("")
	}
	src := want.Source
	if err := decorate(obj, r.req, src); err != nil {
		return nil, false, err
	}
	return obj, namespaced, nil
}

// ensureNamespace creates ns if it is missing (a dry run only notes it) and
// reports whether it exists.
func (r *run) ensureNamespace(ctx context.Context, ns string, forRef ObjectRef) (bool, error) {
	if exists, seen := r.namespaces[ns]; seen {
		return exists, nil
	}
	nsObj := &unstructured.Unstructured{}
	nsObj.SetAPIVersion("v1")
	nsObj.SetKind("Namespace")
	nsObj.SetName(ns)
	err := r.get(ctx, client.ObjectKey{Name: ns}, nsObj)
	switch {
	case err == nil:
		if nsObj.GetDeletionTimestamp() != nil {
			return false, fmt.Errorf("deploying %s: namespace %s is being deleted", forRef, ns)
		}
		r.namespaces[ns] = true
		return true, nil
	case !apierrors.IsNotFound(err):
		return false, fmt.Errorf("deploying %s: reading namespace %s: %w", forRef, ns, err)
	}
	if r.req.DryRun {
		r.namespaces[ns] = false
		r.report(ObjectRef{APIVersion: "v1", Kind: "Namespace", Name: ns}, configv1beta1.ReportActionCreate,
			"created for "+forRef.String())
		return false, nil
	}
	nsObj = &unstructured.Unstructured{}
	nsObj.SetAPIVersion("v1")
	nsObj.SetKind("Namespace")
	nsObj.SetName(ns)
	r.res.Writes++
	if err := r.c.Create(ctx, nsObj, client.FieldOwner(r.d.fieldManager())); err != nil && !apierrors.IsAlreadyExists(err) {
		return false, fmt.Errorf("deploying %s: creating namespace %s: %w", forRef, ns, err)
	}
	r.namespaces[ns] = true
	return true, nil
}

func (r *run) conflict(ref ObjectRef, h holder, ours int32) error {
	why := "at equal tiers the first owner keeps it"
	if h.tier < ours {
		why = "the lower tier wins"
	}
	c := Conflict{
		Object: ref,
		Holder: h.owner,
		Message: fmt.Sprintf("conflict on %s: deployed by %s (tier %d), also wanted by %s (tier %d); %s",
			ref, h.owner, h.tier, r.req.Owner, ours, why),
	}
	r.res.Conflicts = append(r.res.Conflicts, c)
	r.report(ref, configv1beta1.ReportActionConflict, c.Message)
	if r.req.ContinueOnConflict || r.req.DryRun {
		return nil
	}
	return &ConflictError{Conflict: c}
}

// apply server-side applies obj. When force is set and the server rejects the
// change of an immutable field, the live object is deleted and obj created anew.
// It returns the object as the API server answered.
func (r *run) apply(ctx context.Context, obj, live *unstructured.Unstructured, force bool) (*unstructured.Unstructured, error) {
	applied, err := r.serverSideApply(ctx, obj)
	if err != nil && force && live != nil && isImmutableError(err) {
		return r.recreate(ctx, obj, live, err)
	}
	if err != nil {
		return nil, fmt.Errorf("applying %s: %w", RefOf(obj), err)
	}
	return applied, nil
}

// recreate deletes live, whose update to obj the API server refused (an
// immutable field), and applies obj anew.
func (r *run) recreate(ctx context.Context, obj, live *unstructured.Unstructured, refused error) (*unstructured.Unstructured, error) {
	ref := RefOf(obj)
	uid := live.GetUID()
	r.res.Writes++
	err := r.c.Delete(ctx, live, client.Preconditions{UID: &uid}, client.PropagationPolicy(metav1.DeletePropagationBackground))
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("applying %s: %w; deleting it to recreate it: %w", ref, refused, err)
	}
	applied, err := r.serverSideApply(ctx, obj)
	if err != nil {
		return nil, fmt.Errorf("applying %s: %w", ref, err)
	}
	return applied, nil
}

// serverSideApply applies obj and returns the object the API server answered with.
func (r *run) serverSideApply(ctx context.Context, obj *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	r.res.Writes++
	applied := obj.DeepCopy()
	err := r.c.Apply(ctx, client.ApplyConfigurationFromUnstructured(applied),
		client.ForceOwnership, client.FieldOwner(r.d.fieldManager()))
	return applied, err
}

// isImmutableError tells whether the API server refused an update because it
// changes a field that cannot change.
func isImmutableError(err error) bool {
	if !apierrors.IsInvalid(err) && !apierrors.IsForbidden(err) {
		return false
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "immutable") || strings.Contains(msg, "may not change") ||
		strings.Contains(msg, "cannot be changed")
}

// cleanStale deletes (or, in a dry run, reports) the objects of req.Previous that
// are no longer desired and still carry this owner's metadata, last first.
func (r *run) cleanStale(ctx context.Context) error {
	var errs []error
	for _, prev := range slices.Backward(r.req.Previous) {
		if r.desired[prev.key()] {
			continue
		}
		live, err := r.getOwned(ctx, prev)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if live == nil {
			continue
		}
		if r.req.DryRun {
			r.report(prev, configv1beta1.ReportActionDelete, "no longer desired")
			continue
		}
		uid := live.GetUID()
		r.res.Writes++
		err = r.c.Delete(ctx, live, client.Preconditions{UID: &uid}, client.PropagationPolicy(metav1.DeletePropagationBackground))
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting stale %s: %w", prev, err))
			continue
		}
		r.res.Removed = append(r.res.Removed, prev)
	}
	return errors.Join(errs...)
}

// getOwned reads ref and returns it when it exists and carries the request's
// owner and feature; nil otherwise.
func (r *run) getOwned(ctx context.Context, ref ObjectRef) (*unstructured.Unstructured, error) {
	r.res.Reads++
	return getOwned(ctx, r.c, ref, r.req.Owner, string(r.req.Feature))
}

func (r *run) report(ref ObjectRef, action configv1beta1.ReportAction, msg string) {
	if !r.req.DryRun {
		return
	}
	r.res.Report = append(r.res.Report, configv1beta1.ResourceReport{
		Resource: resourceYAML(ref),
		Action:   action,
		Message:  msg,
	})
}

func resourceYAML(ref ObjectRef) string {
	var b strings.Builder
	b.WriteString("apiVersion: " + ref.APIVersion + "\nkind: " + ref.Kind + "\nmetadata:\n  name: " + strconv.Quote(ref.Name) + "\n")
	if ref.Namespace != "" {
		b.WriteString("  namespace: " + strconv.Quote(ref.Namespace) + "\n")
	}
	return b.String()
}

// getOwned reads ref and returns it when it exists and carries owner's metadata
// (and, unless feature is empty, the feature's reason label); nil otherwise.
// A kind the cluster no longer serves counts as gone.
func getOwned(ctx context.Context, c client.Reader, ref ObjectRef, owner Owner, feature string) (*unstructured.Unstructured, error) {
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(ref.GroupVersionKind())
	err := c.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, live)
	switch {
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	h, ok := holderOf(live)
	if !ok || !h.is(owner) || (feature != "" && string(h.feature) != feature) {
		return nil, nil
	}
	return live, nil
}
