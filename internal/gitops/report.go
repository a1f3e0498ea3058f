package gitops

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/tugboat-dev/tugboat/internal/scheduler"
)

// errorsMarker starts the marker of the scheduler's error reports for env: an
// issue's body, a comment, or the body of its own pull request. The marker goes
// on with "errors=<ErrorsHash> -->" or "resolved -->".
func errorsMarker(env string) string {
	return "<!-- tugboat-scheduler-errors environment=" + env + " "
}

func errorsMarkerFor(env, hash string) string { return errorsMarker(env) + "errors=" + hash + " -->" }

func resolvedMarker(env string) string { return errorsMarker(env) + "resolved -->" }

// ErrorsHash names a set of scheduling errors whatever their order: the first 16
// hex digits of the SHA-256 of their sorted, distinct messages.
func ErrorsHash(errs []*scheduler.Error) string {
	msgs := make([]string, 0, len(errs))
	seen := map[string]bool{}
	for _, e := range errs {
		if m := e.Error(); !seen[m] {
			seen[m] = true
			msgs = append(msgs, m)
		}
	}
	sort.Strings(msgs)
	sum := sha256.Sum256([]byte(strings.Join(msgs, "\n")))
	return hex.EncodeToString(sum[:])[:16]
}

// ReportAction is what ReportErrors did on the forge.
type ReportAction string

// Report actions.
const (
	// ReportNothing: the forge already says what there is to say.
	ReportNothing ReportAction = ""
	// ReportCommented: the errors changed; a comment on the pull request or the open issue lists them.
	ReportCommented ReportAction = "Commented"
	// ReportOpened: a new issue lists the errors.
	ReportOpened ReportAction = "Opened"
	// ReportResolved: the errors went away; a comment says so and the issues are closed.
	ReportResolved ReportAction = "Resolved"
)

// Report is the outcome of ReportErrors.
type Report struct {
	Action ReportAction
	// Number is the pull request or issue that holds the report (0: none).
	Number int
	// URL is the comment's or the issue's page, when the forge gave one.
	URL string
	// Closed are the issues closed because their errors are fixed.
	Closed []int
}

// ReportErrors tells the forge about the deployment targets of env that failed to
// render, once per distinct set of errors (ErrorsHash, kept in a marker):
//
//   - with errors and pr (the scheduler's open pull request), a comment on pr,
//     unless pr's body or its last report already lists this set;
//   - with errors and no pr, the scheduler's open issue for env gets a comment
//     when its last report lists another set, or an issue is opened;
//   - without errors, the scheduler's open issues for env get a comment saying
//     the errors are fixed and are closed, and pr gets such a comment when its
//     last report listed errors.
//
// Only issues and comments carrying the scheduler's marker for env are read as
// reports; nothing else is touched.
func ReportErrors(ctx context.Context, tr Tracker, env string, pr *PullRequest, errs []*scheduler.Error) (*Report, error) {
	if len(errs) == 0 {
		return reportResolved(ctx, tr, env, pr)
	}
	hash := ErrorsHash(errs)
	if pr != nil {
		return commentUnlessReported(ctx, tr, env, hash, "pull request", pr.Number, pr.Body, pr.URL, errorsBody(env, hash, errs, "This pull request"))
	}
	own, err := ownIssues(ctx, tr, env)
	if err != nil {
		return nil, err
	}
	if len(own) == 0 {
		issue, err := tr.CreateIssue(ctx, Issue{
			Title: fmt.Sprintf("Tugboat: deployment targets of environment %s fail to render", env),
			Body:  errorsBody(env, hash, errs, "The environment branch"),
		})
		if err != nil {
			return nil, fmt.Errorf("opening an issue: %w", err)
		}
		return &Report{Action: ReportOpened, Number: issue.Number, URL: issue.URL}, nil
	}
	issue := own[0]
	return commentUnlessReported(ctx, tr, env, hash, "issue", issue.Number, issue.Body, issue.URL, errorsBody(env, hash, errs, "The environment branch"))
}

// commentUnlessReported comments comment on pull request or issue number (what
// names which; body and url are its own) unless the last report there already
// has hash.
func commentUnlessReported(ctx context.Context, tr Tracker, env, hash, what string, number int, body, url, comment string) (*Report, error) {
	state, err := lastReport(ctx, tr, env, number, body)
	if err != nil {
		return nil, fmt.Errorf("reading %s #%d: %w", what, number, err)
	}
	if state == hash {
		return &Report{Number: number, URL: url}, nil
	}
	c, err := tr.CreateComment(ctx, number, comment)
	if err != nil {
		return nil, fmt.Errorf("commenting on %s #%d: %w", what, number, err)
	}
	return &Report{Action: ReportCommented, Number: number, URL: c.URL}, nil
}

func reportResolved(ctx context.Context, tr Tracker, env string, pr *PullRequest) (*Report, error) {
	rep := &Report{}
	own, err := ownIssues(ctx, tr, env)
	if err != nil {
		return nil, err
	}
	for _, issue := range own {
		if _, err := tr.CreateComment(ctx, issue.Number, resolvedBody(env, "Closing this issue.")); err != nil {
			return rep, fmt.Errorf("commenting on issue #%d: %w", issue.Number, err)
		}
		if err := tr.CloseIssue(ctx, issue.Number); err != nil {
			return rep, fmt.Errorf("closing issue #%d: %w", issue.Number, err)
		}
		rep.Action, rep.Number, rep.URL = ReportResolved, issue.Number, issue.URL
		rep.Closed = append(rep.Closed, issue.Number)
	}
	if pr == nil {
		return rep, nil
	}
	state, err := lastReport(ctx, tr, env, pr.Number, pr.Body)
	if err != nil {
		return rep, fmt.Errorf("reading pull request #%d: %w", pr.Number, err)
	}
	if state == "" || state == "resolved" {
		return rep, nil
	}
	c, err := tr.CreateComment(ctx, pr.Number, resolvedBody(env, ""))
	if err != nil {
		return rep, fmt.Errorf("commenting on pull request #%d: %w", pr.Number, err)
	}
	rep.Action, rep.Number, rep.URL = ReportResolved, pr.Number, c.URL
	return rep, nil
}

// ownIssues are the open issues holding the scheduler's error reports for env.
func ownIssues(ctx context.Context, tr Tracker, env string) ([]Issue, error) {
	issues, err := tr.ListOpenIssues(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing issues: %w", err)
	}
	var own []Issue
	for _, i := range issues {
		if strings.HasPrefix(strings.TrimSpace(i.Body), errorsMarker(env)) {
			own = append(own, i)
		}
	}
	sort.Slice(own, func(a, b int) bool { return own[a].Number < own[b].Number })
	return own, nil
}

// lastReport is the state of the last report in a conversation (body, then
// comments): the ErrorsHash it listed, "resolved", or "" when there is none.
func lastReport(ctx context.Context, tr Tracker, env string, number int, body string) (string, error) {
	comments, err := tr.ListComments(ctx, number)
	if err != nil {
		return "", err
	}
	state := reportState(env, body)
	for _, c := range comments {
		if s := reportState(env, c.Body); s != "" {
			state = s
		}
	}
	return state, nil
}

// reportState reads the last marker for env in text.
func reportState(env, text string) string {
	i := strings.LastIndex(text, errorsMarker(env))
	if i < 0 {
		return ""
	}
	rest := text[i+len(errorsMarker(env)):]
	end := strings.Index(rest, " -->")
	if end < 0 {
		return ""
	}
	if s := rest[:end]; s == "resolved" {
		return s
	} else if h, ok := strings.CutPrefix(s, "errors="); ok {
		return h
	}
	return ""
}

// Forges cap bodies at 65536 characters: keep well below.
const (
	maxReportMessage = 4 << 10
	maxReportBody    = 48 << 10
)

// errorsBody lists errs under the marker of their set; where says what keeps
// the failed targets' files.
func errorsBody(env, hash string, errs []*scheduler.Error, where string) string {
	var b strings.Builder
	b.WriteString(errorsMarkerFor(env, hash) + "\n")
	fmt.Fprintf(&b, "**%d deployment target(s) of environment `%s` failed to render** (Tugboat scheduler). ", len(errs), env)
	fmt.Fprintf(&b, "%s keeps their previous files; the other targets were published.\n\n", where)
	b.WriteString(errorsList(errs))
	b.WriteString("\nThe scheduler comments again when these errors change, and says so when they are fixed.\n")
	return b.String()
}

// errorsList is the errors' messages in a fenced block, sorted, each and all cut
// to stay inside the forges' limits.
func errorsList(errs []*scheduler.Error) string {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		m := strings.ReplaceAll(e.Error(), "```", "'''")
		if len(m) > maxReportMessage {
			m = m[:maxReportMessage] + "…"
		}
		msgs[i] = m
	}
	sort.Strings(msgs)
	var b strings.Builder
	b.WriteString("```text\n")
	for i, m := range msgs {
		if b.Len()+len(m) > maxReportBody {
			fmt.Fprintf(&b, "… and %d more\n", len(msgs)-i)
			break
		}
		b.WriteString(m + "\n")
	}
	b.WriteString("```\n")
	return b.String()
}

func resolvedBody(env, tail string) string {
	s := resolvedMarker(env) + "\n" +
		fmt.Sprintf("**Fixed:** every deployment target of environment `%s` renders again (Tugboat scheduler).", env)
	if tail != "" {
		s += " " + tail
	}
	return s + "\n"
}
