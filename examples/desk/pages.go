package main

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/qa"
)

// maxUpload bounds an attachment upload (the SDK's limit is checked too).
const maxUpload = 40 << 20

func (s *server) inboxPage(w http.ResponseWriter, r *http.Request, ss *session, me *emailflow.Agent) {
	in, err := s.ops.inbox(r.Context(), me.ID)
	if err != nil {
		s.fail(w, r, ss, me, err)
		return
	}
	s.render(w, r, ss, me, http.StatusOK, "inbox", "inbox", in)
}

// inboxLive is the inbox's lists alone, which the page's script fetches
// when an event arrives.
func (s *server) inboxLive(w http.ResponseWriter, r *http.Request, ss *session, me *emailflow.Agent) {
	in, err := s.ops.inbox(r.Context(), me.ID)
	if err != nil {
		http.Error(w, catalogues[s.snapshot(ss).lang].T(errKey(err)), statusOf(err))
		return
	}
	snap := s.snapshot(ss)
	p := &page{L: catalogues[snap.lang], Labels: labelsFor[snap.lang], Lang: snap.lang, CSRF: snap.csrf, Me: me, Data: in}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := s.pages["inbox"].ExecuteTemplate(w, "lists", p); err != nil {
		s.log.Error("rendering", "page", "inbox/live", "err", err)
	}
}

func (s *server) setStatus(r *http.Request, me *emailflow.Agent) (string, error) {
	st := emailflow.StatusNotReady
	if r.PostFormValue("status") == string(emailflow.StatusReady) {
		st = emailflow.StatusReady
	}
	return "/inbox", s.ops.setStatus(r.Context(), me.ID, st)
}

// liveEvent is what the event stream sends the page's script.
type liveEvent struct {
	Type        string `json:"type"`
	Interaction string `json:"interaction"`
	Text        string `json:"text"`
}

// events streams the agent's events (server-sent events): the pages'
// script refreshes the inbox and shows a line of news.
func (s *server) events(w http.ResponseWriter, r *http.Request, ss *session, me *emailflow.Agent) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	sub := s.ops.events(r.Context(), me.ID)
	defer sub.Close()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = fmt.Fprint(w, ": connected\n\n")
	flusher.Flush()
	ping := time.NewTicker(20 * time.Second)
	defer ping.Stop()
	for {
		select {
		case e, ok := <-sub.C:
			if !ok {
				return
			}
			text := labelsFor[s.snapshot(ss).lang].Event(string(e.Type))
			if subject := s.ops.subject(r.Context(), me.ID, e.InteractionID); subject != "" {
				text += " · " + subject
			}
			b, _ := json.Marshal(liveEvent{Type: string(e.Type), Interaction: e.InteractionID, Text: text})
			_, _ = fmt.Fprintf(w, "event: desk\ndata: %s\n\n", b)
			flusher.Flush()
		case <-ping.C:
			_, _ = fmt.Fprint(w, ": ping\n\n")
			flusher.Flush()
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
}

// windowData is what the interaction window shows.
type windowData struct {
	*window
	Draft        *emailflow.Email // the draft being written, when editable
	Editable     bool
	Owner        bool
	Responses    []compose.Template
	Dispositions []string
	LastReview   *interaction.Round // the last decided review, shown when it is a rejection
	Called       string
}

// editable reports whether the owner may edit an outbound email in this
// state.
func editable(st interaction.State) bool {
	return st == interaction.StateDraft || st == interaction.StateRejected || st == interaction.StateFailed
}

func (s *server) windowPage(w http.ResponseWriter, r *http.Request, ss *session, me *emailflow.Agent) {
	ctx := r.Context()
	win, err := s.ops.window(ctx, me.ID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, ss, me, err)
		return
	}
	d := &windowData{window: win, Owner: win.It.Owner == me.ID, Dispositions: dispositions, Called: r.URL.Query().Get("called")}
	if r, ok := win.It.LastReview(); ok {
		d.LastReview = &r
	}
	if win.It.Kind == interaction.KindOutbound && d.Owner && editable(win.It.State) {
		if d.Draft, err = s.ops.draft(ctx, me.ID, win.It.ID); err != nil {
			s.fail(w, r, ss, me, err)
			return
		}
		d.Editable = true
		if d.Responses, err = s.ops.responses(ctx, me.ID); err != nil {
			s.fail(w, r, ss, me, err)
			return
		}
	}
	s.render(w, r, ss, me, http.StatusOK, "window", "desk", d)
}

// dialogData is what the transfer, consult and forward dialogs show.
type dialogData struct {
	Kind   string
	It     *interaction.Interaction
	Team   []*emailflow.Agent
	Queues []string
}

func (s *server) dialogPage(kind string) func(w http.ResponseWriter, r *http.Request, ss *session, me *emailflow.Agent) {
	return func(w http.ResponseWriter, r *http.Request, ss *session, me *emailflow.Agent) {
		ctx := r.Context()
		win, err := s.ops.window(ctx, me.ID, r.PathValue("id"))
		if err != nil {
			s.fail(w, r, ss, me, err)
			return
		}
		d := &dialogData{Kind: kind, It: win.It, Queues: []string{queue}}
		if kind != "forward" {
			if d.Team, err = s.ops.team(ctx, me.ID); err != nil {
				s.fail(w, r, ss, me, err)
				return
			}
		}
		s.render(w, r, ss, me, http.StatusOK, "dialog", kind, d)
	}
}

func (s *server) download(w http.ResponseWriter, r *http.Request, ss *session, me *emailflow.Agent) {
	a, err := s.ops.attachment(r.Context(), me.ID, r.PathValue("id"), r.PathValue("email"), r.PathValue("att"))
	if err != nil {
		s.fail(w, r, ss, me, err)
		return
	}
	// Always a download, never shown in the desk's origin: an HTML
	// attachment must not run as one of the desk's pages.
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Filename}))
	w.Header().Set("Content-Length", strconv.Itoa(len(a.Data)))
	_, _ = w.Write(a.Data)
}

// interactionAction runs one action of the interaction window.
func (s *server) interactionAction(r *http.Request, me *emailflow.Agent) (string, error) {
	ctx, id := r.Context(), r.PathValue("id")
	here := "/i/" + id
	switch r.PathValue("action") {
	case "accept":
		return here, ignore(s.ops.accept(ctx, me.ID, id))
	case "decline":
		return "/inbox", s.ops.decline(ctx, me.ID, id)
	case "reply", "replyall":
		d, err := s.ops.reply(ctx, me.ID, id, r.PathValue("action") == "replyall")
		return "/i/" + d, err
	case "forward":
		to, err := parseAddresses("To", r.PostFormValue("to"))
		if err != nil {
			return "", err
		}
		d, err := s.ops.forward(ctx, me.ID, id, to, r.PostFormValue("instructions"), r.PostFormValue("asattachment") != "")
		return "/i/" + d, err
	case "transfer":
		return "/inbox", s.ops.transfer(ctx, me.ID, id, r.PostFormValue("agent"), r.PostFormValue("queue"), r.PostFormValue("note"))
	case "consult":
		return here, s.ops.consult(ctx, me.ID, id, r.PostForm["colleague"], r.PostFormValue("question"))
	case "answer":
		return "/inbox", s.ops.answer(ctx, me.ID, id, r.PostFormValue("answer"))
	case "casedata":
		return here, s.ops.setCaseData(ctx, me.ID, id, strings.TrimSpace(r.PostFormValue("key")), r.PostFormValue("value"))
	case "note":
		return here, s.ops.addNote(ctx, me.ID, id, r.PostFormValue("note"))
	case "disposition":
		return here, s.ops.setDisposition(ctx, me.ID, id, r.PostFormValue("disposition"))
	case "done":
		return here, s.ops.markDone(ctx, me.ID, id)
	case "workbin":
		return "/inbox", s.ops.saveToWorkbin(ctx, me.ID, id)
	case "resume":
		return here, s.ops.takeFromWorkbin(ctx, me.ID, id)
	case "delete":
		return "/inbox", s.ops.remove(ctx, me.ID, id)
	case "withdraw":
		return here, s.ops.withdraw(ctx, me.ID, id)
	case "discard":
		return "/inbox", s.ops.discard(ctx, me.ID, id)
	case "call":
		call, err := s.ops.call(ctx, me.ID, id)
		return here + "?called=" + call, err
	case "draft", "send", "response", "attach", "detach":
		return here, s.editorAction(r, me, id)
	}
	return "", fmt.Errorf("%w: no action %q", emailflow.ErrNotFound, r.PathValue("action"))
}

// editorAction saves the draft editor's content, then does what its
// button asks: every button of the editor posts the whole form, so nothing
// typed is lost whichever is pressed.
func (s *server) editorAction(r *http.Request, me *emailflow.Agent, id string) error {
	ctx := r.Context()
	if _, posted := r.PostForm["subject"]; posted {
		c, err := postedDraft(r)
		if err != nil {
			return err
		}
		if err := s.ops.saveDraft(ctx, me.ID, id, c); err != nil {
			return err
		}
	}
	switch r.PathValue("action") {
	case "send":
		_, err := s.ops.send(ctx, me.ID, id, r.PostFormValue("review") != "")
		return err
	case "response":
		return s.ops.insertResponse(ctx, me.ID, id, r.PostFormValue("response"))
	case "detach":
		return s.ops.detach(ctx, me.ID, id, r.PostFormValue("attachment"))
	case "attach":
		f, h, err := r.FormFile("file")
		if err != nil {
			return fmt.Errorf("%w: %v", errUpload, err)
		}
		defer f.Close()
		return s.ops.attach(ctx, me.ID, id, h.Filename, h.Header.Get("Content-Type"), f)
	}
	return nil
}

// postedDraft reads an email's content from an editor's form.
func postedDraft(r *http.Request) (draftContent, error) {
	// Browsers send a textarea's line ends as CRLF: back to the LF the
	// drafts hold, so that an untouched field compares equal.
	lf := func(name string) string { return strings.ReplaceAll(r.PostFormValue(name), "\r\n", "\n") }
	c := draftContent{Subject: r.PostFormValue("subject"), Text: lf("text"), HTML: lf("html")}
	var err error
	for _, f := range []struct {
		name string
		to   *[]mail.Address
	}{{"To", &c.To}, {"Cc", &c.Cc}, {"Bcc", &c.Bcc}} {
		if *f.to, err = parseAddresses(f.name, r.PostFormValue(strings.ToLower(f.name))); err != nil {
			return c, err
		}
	}
	return c, nil
}

// ignore drops a result the redirect does not need.
func ignore[T any](_ T, err error) error { return err }

// contactsData is the directory page.
type contactsData struct {
	Query    string
	Contacts []contactRow
}

type contactRow struct {
	ID, Name, Email, Phone string
}

func (s *server) contactsPage(w http.ResponseWriter, r *http.Request, ss *session, me *emailflow.Agent) {
	q := r.URL.Query().Get("q")
	d := &contactsData{Query: q}
	if strings.TrimSpace(q) != "" {
		cs, err := s.ops.searchContacts(r.Context(), q)
		if err != nil {
			s.fail(w, r, ss, me, err)
			return
		}
		for _, c := range cs {
			d.Contacts = append(d.Contacts, contactRow{ID: c.ID, Name: c.DisplayName(), Email: c.PrimaryEmail(), Phone: c.PrimaryPhone()})
		}
	}
	s.render(w, r, ss, me, http.StatusOK, "contacts", "directory", d)
}

func (s *server) newEmail(r *http.Request, me *emailflow.Agent) (string, error) {
	d, err := s.ops.newEmail(r.Context(), me.ID, r.PathValue("contact"), r.PostFormValue("voice"))
	return "/i/" + d, err
}

func (s *server) queuesPage(w http.ResponseWriter, r *http.Request, ss *session, me *emailflow.Agent) {
	queues := slices.Clone(me.Queues)
	if !slices.Contains(queues, reviewQueue) {
		queues = append(queues, reviewQueue)
	}
	stats, err := s.ops.queueStats(r.Context(), me.ID, queues)
	if err != nil {
		s.fail(w, r, ss, me, err)
		return
	}
	s.render(w, r, ss, me, http.StatusOK, "queues", "queues", stats)
}

func (s *server) quarantinePage(w http.ResponseWriter, r *http.Request, ss *session, me *emailflow.Agent) {
	held, err := s.ops.quarantine(r.Context(), me.ID, me.Queues)
	if err != nil {
		s.fail(w, r, ss, me, err)
		return
	}
	s.render(w, r, ss, me, http.StatusOK, "quarantine", "quarantine", held)
}

func (s *server) releaseAction(r *http.Request, me *emailflow.Agent) (string, error) {
	return "/quarantine", s.ops.release(r.Context(), me.ID, r.PathValue("id"))
}

// reviewsData is the reviewer's queue.
type reviewsData struct {
	Mine    []*interaction.Interaction // offered to me or handled by me
	Waiting []*interaction.Interaction // in the review queue
}

func (s *server) reviewsPage(w http.ResponseWriter, r *http.Request, ss *session, me *emailflow.Agent) {
	in, err := s.ops.inbox(r.Context(), me.ID)
	if err != nil {
		s.fail(w, r, ss, me, err)
		return
	}
	d := &reviewsData{Mine: in.Reviews}
	if d.Waiting, err = s.ops.reviewQueue(r.Context(), me.ID, reviewQueue); err != nil {
		s.fail(w, r, ss, me, err)
		return
	}
	s.render(w, r, ss, me, http.StatusOK, "reviews", "reviews", d)
}

// reviewData is one review.
type reviewData struct {
	*emailflow.ReviewItem
	Handling bool
	Reasons  []string
}

func (s *server) reviewPage(w http.ResponseWriter, r *http.Request, ss *session, me *emailflow.Agent) {
	item, err := s.ops.review(r.Context(), me.ID, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, ss, me, err)
		return
	}
	d := &reviewData{ReviewItem: item, Handling: item.Review.Owner == me.ID && item.Review.State == interaction.StateHandling, Reasons: qa.DefaultRejectReasons}
	s.render(w, r, ss, me, http.StatusOK, "review", "review", d)
}

func (s *server) pullReview(r *http.Request, me *emailflow.Agent) (string, error) {
	it, err := s.ops.pull(r.Context(), me.ID, reviewQueue)
	if err != nil {
		return "", err
	}
	return "/review/" + it.ID, nil
}

func (s *server) reviewAction(r *http.Request, me *emailflow.Agent) (string, error) {
	ctx, id := r.Context(), r.PathValue("id")
	here := "/review/" + id
	switch r.PathValue("action") {
	case "accept":
		return here, ignore(s.ops.accept(ctx, me.ID, id))
	case "approve":
		return "/review", s.ops.approve(ctx, me.ID, id)
	case "reject":
		return "/review", s.ops.reject(ctx, me.ID, id, r.PostFormValue("reason"), r.PostFormValue("remarks"))
	case "edit":
		c, err := postedDraft(r)
		if err != nil {
			return "", err
		}
		return here, s.ops.reviewEdit(ctx, me.ID, id, c)
	}
	return "", fmt.Errorf("%w: no action %q", emailflow.ErrNotFound, r.PathValue("action"))
}
