package dashboard

import (
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	schedulerv1alpha1 "github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/conditions"
	"github.com/tugboat-dev/tugboat/internal/explain"
	"github.com/tugboat-dev/tugboat/internal/selection"
)

// readOnly lists without copying: the cache's objects are only read here.
var readOnly = client.UnsafeDisableDeepCopy

var funcs = template.FuncMap{
	"lower": func(s any) string { return strings.ToLower(fmt.Sprint(s)) },
	"when": func(t *metav1.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
	"inc": func(i int) int { return i + 1 },
	"short": func(s string) string {
		if len(s) > 12 {
			return s[:12]
		}
		return s
	},
}

// State is a summary's state as lists show it.
type State string

// States of a ClusterSummary.
const (
	Provisioned  State = "Provisioned"
	Provisioning State = "Provisioning"
	Failed       State = "Failed"
	Pending      State = "Pending" // no feature reported yet
)

// FeatureRow is one feature of a ClusterSummary.
type FeatureRow struct {
	ID          libv1beta1.FeatureID
	Status      libv1beta1.FeatureStatus
	Failure     string
	Failures    int32
	LastApplied *metav1.Time
}

// SummaryRow is a ClusterSummary: the profile, the cluster, each feature's
// status and the failure text the summary controller recorded, verbatim.
type SummaryRow struct {
	Name        string // namespace/name of the ClusterSummary
	Profile     string
	ProfileLink string
	Cluster     string
	ClusterLink string
	ExplainLink string
	// GeneratedBy is the EventTrigger that generated the profile, if one did
	// (filled where the page read the profiles).
	GeneratedBy string
	State       State
	Failure     string
	Features    []FeatureRow
	// Inputs are the profile's templateResourceRefs resolved for the
	// cluster, with where each object came from (filled on a cluster's page).
	Inputs []InputRow
}

// InputRow is a templateResourceRef resolved for a cluster (explain.LoadInputs:
// the object's metadata only, a Secret's data is never read) and a link to the
// profile that deployed the object.
type InputRow struct {
	explain.TemplateInput
	ProducerLink string
}

func inputRows(inputs []explain.TemplateInput) []InputRow {
	rows := make([]InputRow, len(inputs))
	for i, in := range inputs {
		rows[i].TemplateInput = in
		if in.DeployedBy != nil {
			if ref, err := parseProfile(in.DeployedBy.Profile); err == nil {
				rows[i].ProducerLink = profileLink(ref)
			}
		}
	}
	return rows
}

func summaryRow(s *configv1beta1.ClusterSummary) SummaryRow {
	id := s.Cluster()
	r := SummaryRow{Name: s.Namespace + "/" + s.Name, Cluster: id.String(), ClusterLink: clusterLink(id)}
	if p, ok := configv1beta1.ProfileOf(s); ok {
		r.Profile, r.ProfileLink, r.ExplainLink = p.String(), profileLink(p), explainLink(p, id)
	}
	r.State, r.Failure = summaryState(s)
	for _, f := range s.Status.FeatureSummaries {
		fr := FeatureRow{ID: f.FeatureID, Status: f.Status, Failures: f.ConsecutiveFailures, LastApplied: f.LastAppliedTime}
		if f.FailureMessage != nil {
			fr.Failure = *f.FailureMessage
		}
		r.Features = append(r.Features, fr)
	}
	return r
}

// summaryState sums up a summary for lists: Failed when the summary or a
// feature reports a failure (the messages joined, verbatim), Provisioned when
// every feature is provisioned for the current generation, Pending when no
// feature reported yet, else Provisioning. Why it is so is the explanation's
// job (the explain page).
func summaryState(s *configv1beta1.ClusterSummary) (State, string) {
	var failures []string
	if s.Status.FailureMessage != nil && *s.Status.FailureMessage != "" {
		failures = append(failures, *s.Status.FailureMessage)
	}
	provisioned := len(s.Status.FeatureSummaries) > 0 && s.Status.ObservedGeneration == s.Generation
	for _, f := range s.Status.FeatureSummaries {
		switch f.Status {
		case libv1beta1.FeatureStatusFailed, libv1beta1.FeatureStatusFailedNonRetriable:
			msg := string(f.FeatureID) + " " + string(f.Status)
			if f.FailureMessage != nil {
				msg += ": " + *f.FailureMessage
			}
			failures = append(failures, msg)
		case libv1beta1.FeatureStatusProvisioned:
		default:
			provisioned = false
		}
	}
	switch {
	case len(failures) > 0:
		return Failed, strings.Join(failures, "; ")
	case len(s.Status.FeatureSummaries) == 0:
		return Pending, ""
	case provisioned:
		return Provisioned, ""
	}
	return Provisioning, ""
}

// Links.

func clusterLink(id libv1beta1.ClusterID) string {
	l := "/clusters/" + url.PathEscape(id.Namespace) + "/" + url.PathEscape(id.Name)
	if id.IsCAPI() {
		l += "?capi=1"
	}
	return l
}

func profileLink(p configv1beta1.ProfileRef) string {
	if p.Kind == configv1beta1.ProfileKind {
		return "/profiles/Profile/" + url.PathEscape(p.Namespace) + "/" + url.PathEscape(p.Name)
	}
	return "/profiles/ClusterProfile/" + url.PathEscape(p.Name)
}

func explainLink(p configv1beta1.ProfileRef, id libv1beta1.ClusterID) string {
	return "/explain?" + url.Values{"profile": {p.String()}, "cluster": {id.String()}}.Encode()
}

// Pagination and filtering.

// Pager is where a list page stands.
type Pager struct {
	Query       string
	Page, Pages int
	Total       int // rows matching the query
	From, To    int // 1-based, inclusive
	Prev, Next  string
}

// paginate keeps the rows whose text contains the query (?q=, case-insensitive)
// and cuts page ?page= (from 1) of size rows.
func paginate[T any](req *http.Request, rows []T, text func(*T) string, size int) ([]T, Pager) {
	q := strings.TrimSpace(req.URL.Query().Get("q"))
	if q != "" {
		lq := strings.ToLower(q)
		kept := rows[:0:0]
		for i := range rows {
			if strings.Contains(strings.ToLower(text(&rows[i])), lq) {
				kept = append(kept, rows[i])
			}
		}
		rows = kept
	}
	p := Pager{Query: q, Total: len(rows), Pages: max(1, (len(rows)+size-1)/size)}
	p.Page, _ = strconv.Atoi(req.URL.Query().Get("page"))
	p.Page = min(max(p.Page, 1), p.Pages)
	from, to := (p.Page-1)*size, min(p.Page*size, len(rows))
	p.From, p.To = min(from+1, to), to
	link := func(page int) string {
		v := url.Values{"page": {strconv.Itoa(page)}}
		if q != "" {
			v.Set("q", q)
		}
		for k, vs := range req.URL.Query() {
			if k != "page" && k != "q" {
				v[k] = vs
			}
		}
		return req.URL.Path + "?" + v.Encode()
	}
	if p.Page > 1 {
		p.Prev = link(p.Page - 1)
	}
	if p.Page < p.Pages {
		p.Next = link(p.Page + 1)
	}
	return rows[from:to], p
}

// Clusters.

// ClusterRow is a cluster of the fleet, of either kind.
type ClusterRow struct {
	ID      string
	Link    string
	Kind    string
	Status  string // ready, not ready, being deleted
	Ready   bool
	Paused  bool
	Version string
	Message string // why not ready
	Labels  []string
	// Profiles is the number of ClusterSummaries for the cluster, of which
	// Provisioned are provisioned and Failed report a failure (the first: Failure).
	Profiles, Provisioned, Failed int
	Failure                       string
}

func clusterRow(c *selection.Cluster) ClusterRow {
	r := ClusterRow{ID: c.ID.String(), Link: clusterLink(c.ID), Kind: c.ID.Kind(), Ready: c.Ready, Paused: c.Paused, Status: "ready"}
	switch {
	case c.Deleting:
		r.Status = "being deleted"
	case !c.Ready:
		r.Status = "not ready"
	}
	if sc, ok := c.Object.(*libv1beta1.SveltosCluster); ok {
		r.Version = sc.Status.Version
		if sc.Status.FailureMessage != nil {
			r.Message = *sc.Status.FailureMessage
		}
		if sc.Status.ConnectionStatus != "" && sc.Status.ConnectionStatus != libv1beta1.ConnectionHealthy {
			r.Message = strings.TrimPrefix(strings.Join([]string{"connection " + string(sc.Status.ConnectionStatus), r.Message}, ": "), ": ")
		}
	}
	for k, v := range c.Labels {
		r.Labels = append(r.Labels, k+"="+v)
	}
	sort.Strings(r.Labels)
	return r
}

// listClusters lists the fleet of a namespace ("" for all): Cluster API
// Clusters the user may not read are left out (the page notes it), while
// SveltosClusters the user may not read are the page's error.
func (s *Server) listClusters(req *http.Request, namespace string) ([]selection.Cluster, error) {
	f := s.fleet(req)
	all, err := f.List(req.Context(), namespace)
	if err == nil || f.CAPI == clusters.CAPINone || !isForbidden(err) {
		return all, err
	}
	sveltosOnly := f
	sveltosOnly.CAPI = clusters.CAPINone
	some, err2 := sveltosOnly.List(req.Context(), namespace)
	if err2 != nil {
		return nil, err2
	}
	leaveOut(req, err)
	return some, nil
}

// clusterRows lists the clusters, with what the summaries say of each.
func clusterRows(fleet []selection.Cluster, summaries []configv1beta1.ClusterSummary) []ClusterRow {
	rows := make([]ClusterRow, len(fleet))
	index := make(map[libv1beta1.ClusterID]int, len(fleet))
	for i := range fleet {
		rows[i] = clusterRow(&fleet[i])
		index[fleet[i].ID] = i
	}
	for i := range summaries {
		s := &summaries[i]
		n, ok := index[s.Cluster()]
		if !ok {
			continue
		}
		r := &rows[n]
		r.Profiles++
		switch state, failure := summaryState(s); state {
		case Provisioned:
			r.Provisioned++
		case Failed:
			r.Failed++
			if r.Failure == "" {
				r.Failure = failure
			}
		}
	}
	slices.SortFunc(rows, func(a, b ClusterRow) int { return strings.Compare(a.ID, b.ID) })
	return rows
}

func (r *ClusterRow) text() string {
	return r.ID + " " + r.Status + " " + r.Version + " " + strings.Join(r.Labels, " ")
}

// listSummaries lists the ClusterSummaries the page shows. A list the
// viewer may not read is left out of the page (and said so on it): the page
// then shows no summaries rather than failing.
func (s *Server) listSummaries(req *http.Request, opts ...client.ListOption) ([]configv1beta1.ClusterSummary, error) {
	list := &configv1beta1.ClusterSummaryList{}
	if err := s.fleet(req).Reader.List(req.Context(), list, opts...); err != nil {
		err = fmt.Errorf("listing ClusterSummaries: %w", err)
		if leaveOut(req, err) {
			return nil, nil
		}
		return nil, err
	}
	return list.Items, nil
}

type clustersData struct {
	Rows  []ClusterRow
	Pager Pager
}

func (s *Server) clustersPage(req *http.Request) (string, any, error) {
	fleet, err := s.listClusters(req, "")
	if err != nil {
		return "Clusters", nil, err
	}
	summaries, err := s.listSummaries(req, readOnly)
	if err != nil {
		return "Clusters", nil, err
	}
	d := clustersData{}
	d.Rows, d.Pager = paginate(req, clusterRows(fleet, summaries), (*ClusterRow).text, s.pageSize())
	return "Clusters", d, nil
}

type clusterData struct {
	Cluster   ClusterRow
	Summaries []SummaryRow
	// Objects are the objects the profiles deployed in the cluster.
	Objects  []ObjectRow
	Pager    Pager
	Profiles []string // every profile, for the explain form
}

func (s *Server) clusterPage(req *http.Request) (string, any, error) {
	ctx := req.Context()
	id := libv1beta1.SveltosClusterID(req.PathValue("namespace"), req.PathValue("name"))
	if req.URL.Query().Get("capi") != "" {
		id = libv1beta1.CAPIClusterID(id.Namespace, id.Name)
	}
	title := "Cluster " + id.String()
	c, err := s.fleet(req).Get(ctx, id)
	if apierrors.IsNotFound(err) {
		return title, nil, errNotFound{"cluster " + id.String()}
	}
	if err != nil {
		return title, nil, err
	}
	summaries, err := s.listSummaries(req, client.InNamespace(id.Namespace), readOnly)
	if err != nil {
		return title, nil, err
	}
	var mine []configv1beta1.ClusterSummary
	var rows []SummaryRow
	for i := range summaries {
		if summaries[i].Cluster() == id {
			mine = append(mine, summaries[i])
			rows = append(rows, summaryRow(&summaries[i]))
		}
	}
	d := clusterData{Cluster: clusterRows([]selection.Cluster{c}, mine)[0], Objects: s.deployedObjects(req, id, mine)}
	profiles, err := s.listProfiles(req)
	if err != nil {
		return title, nil, err
	}
	byRef := map[string]configv1beta1.ProfileObject{}
	for _, p := range profiles {
		ref := refOf(p).String()
		d.Profiles = append(d.Profiles, ref)
		byRef[ref] = p
	}
	slices.Sort(d.Profiles)
	for i := range rows {
		p := byRef[rows[i].Profile]
		if p == nil {
			continue
		}
		rows[i].GeneratedBy = p.GetLabels()[libv1beta1.EventTriggerNameLabel]
		rows[i].Inputs = inputRows(explain.LoadInputs(ctx, s.fleet(req).Reader, p, &c))
	}
	sortSummaries(rows)
	d.Summaries, d.Pager = paginate(req, rows, (*SummaryRow).text, s.pageSize())
	return title, d, nil
}

func sortSummaries(rows []SummaryRow) {
	order := map[State]int{Failed: 0, Provisioning: 1, Pending: 2, Provisioned: 3}
	slices.SortFunc(rows, func(a, b SummaryRow) int {
		return cmp.Or(cmp.Compare(order[a.State], order[b.State]), strings.Compare(a.Profile, b.Profile), strings.Compare(a.Cluster, b.Cluster))
	})
}

func (r *SummaryRow) text() string {
	return r.Profile + " " + r.GeneratedBy + " " + r.Cluster + " " + string(r.State) + " " + r.Failure
}

// Profiles.

// ProfileRow is a ClusterProfile or Profile with its rollout.
type ProfileRow struct {
	Profile string
	Link    string
	// GeneratedBy is the EventTrigger that generated it, if one did.
	GeneratedBy string
	Paused      bool
	// Matching is the number of clusters the profile targets; Updated of
	// them run its current spec; Summaries is its number of ClusterSummaries,
	// of which Provisioned are provisioned and Failed report a failure.
	Matching, Updated              int
	Summaries, Provisioned, Failed int
	Failure                        string
}

func (r *ProfileRow) text() string { return r.Profile + " " + r.GeneratedBy + " " + r.Failure }

func profileRow(p configv1beta1.ProfileObject) ProfileRow {
	ref := refOf(p)
	st := p.GetStatus()
	r := ProfileRow{Profile: ref.String(), Link: profileLink(ref), GeneratedBy: p.GetLabels()[libv1beta1.EventTriggerNameLabel],
		Matching: len(st.MatchingClusterRefs)}
	_, r.Paused = p.GetAnnotations()[configv1beta1.PausedAnnotation]
	if st.UpdatedClusters != nil {
		r.Updated = len(st.UpdatedClusters.Clusters)
	}
	return r
}

func refOf(p configv1beta1.ProfileObject) configv1beta1.ProfileRef {
	if _, ok := p.(*configv1beta1.Profile); ok {
		return configv1beta1.ProfileRef{Kind: configv1beta1.ProfileKind, Namespace: p.GetNamespace(), Name: p.GetName()}
	}
	return configv1beta1.ProfileRef{Kind: configv1beta1.ClusterProfileKind, Name: p.GetName()}
}

// profileRows lists the profiles with what their summaries say.
func profileRows(profiles []configv1beta1.ProfileObject, summaries []configv1beta1.ClusterSummary) []ProfileRow {
	rows := make([]ProfileRow, len(profiles))
	index := make(map[configv1beta1.ProfileRef]int, len(profiles))
	for i, p := range profiles {
		rows[i] = profileRow(p)
		index[refOf(p)] = i
	}
	for i := range summaries {
		ref, ok := configv1beta1.ProfileOf(&summaries[i])
		n, found := index[ref]
		if !ok || !found {
			continue
		}
		r := &rows[n]
		r.Summaries++
		switch state, failure := summaryState(&summaries[i]); state {
		case Provisioned:
			r.Provisioned++
		case Failed:
			r.Failed++
			if r.Failure == "" {
				r.Failure = summaries[i].Cluster().String() + ": " + failure
			}
		}
	}
	slices.SortFunc(rows, func(a, b ProfileRow) int { return strings.Compare(a.Profile, b.Profile) })
	return rows
}

func (s *Server) listProfiles(req *http.Request) ([]configv1beta1.ProfileObject, error) {
	cps := &configv1beta1.ClusterProfileList{}
	if err := s.fleet(req).Reader.List(req.Context(), cps, readOnly); err != nil && !leaveOut(req, fmt.Errorf("listing ClusterProfiles: %w", err)) {
		return nil, fmt.Errorf("listing ClusterProfiles: %w", err)
	}
	ps := &configv1beta1.ProfileList{}
	if err := s.fleet(req).Reader.List(req.Context(), ps, readOnly); err != nil && !leaveOut(req, fmt.Errorf("listing Profiles: %w", err)) {
		return nil, fmt.Errorf("listing Profiles: %w", err)
	}
	out := make([]configv1beta1.ProfileObject, 0, len(cps.Items)+len(ps.Items))
	for i := range cps.Items {
		out = append(out, &cps.Items[i])
	}
	for i := range ps.Items {
		out = append(out, &ps.Items[i])
	}
	return out, nil
}

type profilesData struct {
	Rows  []ProfileRow
	Pager Pager
}

func (s *Server) profilesPage(req *http.Request) (string, any, error) {
	profiles, err := s.listProfiles(req)
	if err != nil {
		return "Profiles", nil, err
	}
	summaries, err := s.listSummaries(req, readOnly)
	if err != nil {
		return "Profiles", nil, err
	}
	d := profilesData{}
	d.Rows, d.Pager = paginate(req, profileRows(profiles, summaries), (*ProfileRow).text, s.pageSize())
	return "Profiles", d, nil
}

type profileData struct {
	Profile  ProfileRow
	Spec     *configv1beta1.Spec
	Selector string
	// Failed are the profile's status.failedClusters.
	Failed    []configv1beta1.FailedCluster
	Summaries []SummaryRow
	Pager     Pager
	Clusters  []string // every cluster, for the explain form
}

func (s *Server) profilePage(req *http.Request) (string, any, error) {
	ctx := req.Context()
	ref := configv1beta1.ProfileRef{Kind: configv1beta1.ClusterProfileKind, Name: req.PathValue("name")}
	var p configv1beta1.ProfileObject = &configv1beta1.ClusterProfile{}
	opts := []client.ListOption{client.MatchingLabels{configv1beta1.ClusterProfileNameLabel: ref.Name}, readOnly}
	if ns := req.PathValue("namespace"); ns != "" {
		ref = configv1beta1.ProfileRef{Kind: configv1beta1.ProfileKind, Namespace: ns, Name: ref.Name}
		p = &configv1beta1.Profile{}
		opts = []client.ListOption{client.InNamespace(ns), client.MatchingLabels{configv1beta1.ProfileNameLabel: ref.Name}, readOnly}
	}
	title := ref.String()
	if err := s.fleet(req).Reader.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, p); err != nil {
		if apierrors.IsNotFound(err) {
			return title, nil, errNotFound{ref.String()}
		}
		return title, nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	summaries, err := s.listSummaries(req, opts...)
	if err != nil {
		return title, nil, err
	}
	d := profileData{Profile: profileRows([]configv1beta1.ProfileObject{p}, summaries)[0], Spec: p.GetSpec(),
		Failed: p.GetStatus().FailedClusters}
	if sel, err := metav1.LabelSelectorAsSelector(&p.GetSpec().ClusterSelector.LabelSelector); err == nil {
		d.Selector = sel.String()
	}
	rows := make([]SummaryRow, len(summaries))
	for i := range summaries {
		rows[i] = summaryRow(&summaries[i])
	}
	sortSummaries(rows)
	d.Summaries, d.Pager = paginate(req, rows, (*SummaryRow).text, s.pageSize())
	fleet, err := s.listClusters(req, ref.Namespace)
	if err != nil && !leaveOut(req, err) {
		return title, nil, err
	}
	for _, c := range fleet {
		d.Clusters = append(d.Clusters, c.ID.String())
	}
	slices.Sort(d.Clusters)
	return title, d, nil
}

// Events.

// TriggerRow is an EventTrigger: its source, where it is processed and the
// profiles it generated.
type TriggerRow struct {
	Name        string
	EventSource string
	Ready       string // the Ready condition: status and message
	Sources     []string
	Clusters    []libv1beta1.ClusterInfo
	// Reports are the EventSource's EventReports: per source cluster, what
	// it matches there and when that last changed.
	Reports   []ReportRow
	Generated []ProfileRow
}

// ReportRow is an EventReport: what an EventSource matches in one cluster,
// and the time of the last event there — when the matches last changed, as
// the trigger controller stamps it (libv1beta1.EventObservedAnnotation) in
// the write that records the change; the report's creation time for a
// report written before the stamp existed.
type ReportRow struct {
	Cluster   string
	Link      string
	Matching  int
	LastEvent string
	Phase     string
	Failure   string
}

func reportRow(r *libv1beta1.EventReport) ReportRow {
	id := libv1beta1.ClusterID{Type: r.Spec.ClusterType, Namespace: r.Spec.ClusterNamespace, Name: r.Spec.ClusterName}.Normal()
	row := ReportRow{Cluster: id.String(), Link: clusterLink(id), Matching: len(r.Spec.MatchingResources),
		LastEvent: r.Annotations[libv1beta1.EventObservedAnnotation]}
	if t, err := time.Parse(time.RFC3339Nano, row.LastEvent); err == nil {
		row.LastEvent = t.UTC().Format(time.RFC3339)
	} else {
		row.LastEvent = r.CreationTimestamp.UTC().Format(time.RFC3339) + " (created)"
	}
	if r.Status.Phase != nil {
		row.Phase = string(*r.Status.Phase)
	}
	if r.Status.FailureMessage != nil {
		row.Failure = *r.Status.FailureMessage
	}
	return row
}

func (r *TriggerRow) text() string { return r.Name + " " + r.EventSource }

type eventsData struct {
	Rows  []TriggerRow
	Pager Pager
}

func (s *Server) eventsPage(req *http.Request) (string, any, error) {
	ctx := req.Context()
	triggers := &libv1beta1.EventTriggerList{}
	if err := s.fleet(req).Reader.List(ctx, triggers, readOnly); err != nil {
		return "Events", nil, fmt.Errorf("listing EventTriggers: %w", err)
	}
	generated := &configv1beta1.ClusterProfileList{}
	if err := s.fleet(req).Reader.List(ctx, generated, client.HasLabels{libv1beta1.EventTriggerNameLabel}, readOnly); err != nil &&
		!leaveOut(req, fmt.Errorf("listing ClusterProfiles: %w", err)) {
		return "Events", nil, fmt.Errorf("listing ClusterProfiles: %w", err)
	}
	byTrigger := map[string][]configv1beta1.ProfileObject{}
	for i := range generated.Items {
		name := generated.Items[i].Labels[libv1beta1.EventTriggerNameLabel]
		byTrigger[name] = append(byTrigger[name], &generated.Items[i])
	}
	var summaries []configv1beta1.ClusterSummary
	if len(generated.Items) > 0 {
		var err error
		if summaries, err = s.listSummaries(req, client.HasLabels{configv1beta1.ClusterProfileNameLabel}, readOnly); err != nil {
			return "Events", nil, err
		}
	}
	reports := &libv1beta1.EventReportList{}
	if err := s.fleet(req).Reader.List(ctx, reports, readOnly); err != nil && !leaveOut(req, fmt.Errorf("listing EventReports: %w", err)) {
		return "Events", nil, fmt.Errorf("listing EventReports: %w", err)
	}
	bySource := map[string][]ReportRow{}
	for i := range reports.Items {
		name := reports.Items[i].Spec.EventSourceName
		bySource[name] = append(bySource[name], reportRow(&reports.Items[i]))
	}
	for _, rows := range bySource {
		slices.SortFunc(rows, func(a, b ReportRow) int { return strings.Compare(a.Cluster, b.Cluster) })
	}
	rows := make([]TriggerRow, len(triggers.Items))
	for i := range triggers.Items {
		t := &triggers.Items[i]
		r := TriggerRow{Name: t.Name, EventSource: t.Spec.EventSourceName, Clusters: t.Status.ClusterInfo,
			Ready: conditionText(t.Status.Conditions), Reports: bySource[t.Spec.EventSourceName]}
		for _, c := range t.Status.MatchingClusterRefs {
			r.Sources = append(r.Sources, c.Namespace+"/"+c.Name)
		}
		if ps := byTrigger[t.Name]; len(ps) > 0 {
			r.Generated = profileRows(ps, summaries)
		}
		rows[i] = r
	}
	slices.SortFunc(rows, func(a, b TriggerRow) int { return strings.Compare(a.Name, b.Name) })
	d := eventsData{}
	d.Rows, d.Pager = paginate(req, rows, (*TriggerRow).text, s.pageSize())
	return "Events", d, nil
}

// conditionText is the Ready condition as one line.
func conditionText(conds []metav1.Condition) string {
	c := meta.FindStatusCondition(conds, conditions.Ready)
	if c == nil {
		return ""
	}
	return strings.TrimSuffix(fmt.Sprintf("Ready %s: %s", c.Status, c.Message), ": ")
}

// Environments.

// EnvironmentRow is a scheduler Environment's status.
type EnvironmentRow struct {
	Name      string
	Ready     string
	Commit    string
	Compliant string
	Since     *metav1.Time
	Members   string
	Clusters  []schedulerv1alpha1.ClusterCompliance
	Promotion *schedulerv1alpha1.PromotionStatus
}

func (r *EnvironmentRow) text() string { return r.Name + " " + r.Members }

type environmentsData struct {
	Rows  []EnvironmentRow
	Pager Pager
}

func (s *Server) environmentsPage(req *http.Request) (string, any, error) {
	envs := &schedulerv1alpha1.EnvironmentList{}
	if err := s.fleet(req).Reader.List(req.Context(), envs, readOnly); err != nil {
		if meta.IsNoMatchError(err) {
			return "Environments", environmentsData{}, nil
		}
		return "Environments", nil, fmt.Errorf("listing Environments: %w", err)
	}
	rows := make([]EnvironmentRow, len(envs.Items))
	for i := range envs.Items {
		e := &envs.Items[i]
		rows[i] = EnvironmentRow{Name: e.Namespace + "/" + e.Name, Ready: conditionText(e.Status.Conditions), Commit: e.Status.Commit,
			Compliant: e.Status.CompliantCommit, Since: e.Status.CompliantSince, Members: e.Status.Members,
			Clusters: e.Status.Clusters, Promotion: e.Status.Promotion}
	}
	slices.SortFunc(rows, func(a, b EnvironmentRow) int { return strings.Compare(a.Name, b.Name) })
	d := environmentsData{}
	d.Rows, d.Pager = paginate(req, rows, (*EnvironmentRow).text, s.pageSize())
	return "Environments", d, nil
}
