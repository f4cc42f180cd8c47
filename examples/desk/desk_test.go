package main

import (
	"bufio"
	"bytes"
	"context"
	"html"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deskT is a running desk and the demo behind it.
type deskT struct {
	*demo
	srv *httptest.Server
}

func startDesk(t *testing.T) *deskT {
	t.Helper()
	return startDeskWith(t, func(h http.Handler) http.Handler { return h })
}

// startDeskWith starts a desk whose handler wrap wraps.
func startDeskWith(t *testing.T, wrap func(http.Handler) http.Handler) *deskT {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	d, err := newDemo(ctx)
	require.NoError(t, err)
	s, err := newServer(ctx, d, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	srv := httptest.NewServer(wrap(s.Handler()))
	t.Cleanup(srv.Close)
	return &deskT{demo: d, srv: srv}
}

// browser is one user's browser: cookies, and the last page's CSRF token.
type browser struct {
	t    *testing.T
	d    *deskT
	c    *http.Client
	csrf string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (d *deskT) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, d: d, c: &http.Client{Jar: jar}}
}

// page is one answer: its status, final path and body.
type pageT struct {
	Status int
	Path   string
	Raw    string // as sent
	Body   string // with HTML's character references decoded, as a user reads it
	Header http.Header
}

func (b *browser) read(resp *http.Response, err error) pageT {
	b.t.Helper()
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	if m := csrfField.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return pageT{Status: resp.StatusCode, Path: resp.Request.URL.Path, Raw: string(body), Body: html.UnescapeString(string(body)), Header: resp.Header}
}

func (b *browser) get(path string) pageT {
	b.t.Helper()
	return b.read(b.c.Get(b.d.srv.URL + path))
}

// post sends a form with the current CSRF token (unless form sets one).
func (b *browser) post(path string, form url.Values) pageT {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, set := form["csrf"]; !set {
		form.Set("csrf", b.csrf)
	}
	return b.read(b.c.PostForm(b.d.srv.URL+path, form))
}

func (b *browser) login(agent string) pageT {
	b.t.Helper()
	b.get("/login")
	return b.post("/login", url.Values{"agent": {agent}})
}

// offered returns the id of the interaction offered to agent with subject.
func (d *deskT) offered(t *testing.T, agent, subject string) string {
	t.Helper()
	in, err := ops{ws: d.ws}.inbox(context.Background(), agent)
	require.NoError(t, err)
	for _, it := range append(in.Offers, in.Reviews...) {
		if it.Subject == subject {
			return it.ID
		}
	}
	t.Fatalf("nothing offered to %s with subject %q", agent, subject)
	return ""
}

const heleneSubject = "Commande FR-2291 : colis non reçu"

// stateIs is how the interaction window shows state st (in French).
func stateIs(st interaction.State) string {
	return `id="state">` + labelsFor[french].State(st) + `<`
}

// accepted logs camille in and accepts Hélène's mail; it returns the
// browser and the interaction id.
func accepted(t *testing.T, d *deskT) (*browser, string) {
	b := d.browser(t)
	b.login("camille")
	id := d.offered(t, "camille", heleneSubject)
	p := b.post("/i/"+id+"/accept", nil)
	require.Equal(t, "/i/"+id, p.Path, p.Body)
	return b, id
}

func TestLoginSaysItIsADemo(t *testing.T) {
	d := startDesk(t)
	b := d.browser(t)
	p := b.get("/")
	assert.Equal(t, "/login", p.Path)
	assert.Contains(t, p.Body, "Démonstration : il n'y a pas de mot de passe")
	for _, a := range demoAgents {
		assert.Contains(t, p.Body, a.Name)
	}
	assert.Equal(t, contentSecurityPolicy, p.Header.Get("Content-Security-Policy"))

	p = b.post("/login", url.Values{"agent": {"camille"}})
	assert.Equal(t, "/inbox", p.Path)
	assert.Contains(t, p.Body, "Camille Laurent")

	p = b.post("/logout", nil)
	assert.Equal(t, "/login", p.Path)
	assert.Equal(t, "/login", b.get("/inbox").Path, "pages need a login")
}

func TestUnknownAgentRefused(t *testing.T) {
	d := startDesk(t)
	b := d.browser(t)
	b.get("/login")
	p := b.post("/login", url.Values{"agent": {"mallory"}})
	assert.Equal(t, "/login", p.Path)
	assert.Contains(t, p.Body, "Cet élément n'existe pas ou plus.")
}

func TestCSRFRefused(t *testing.T) {
	d := startDesk(t)
	b := d.browser(t)
	b.login("camille")
	id := d.offered(t, "camille", heleneSubject)
	for _, tc := range []struct{ name, token string }{{"missing", ""}, {"wrong", "forged-token"}} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.post("/i/"+id+"/accept", url.Values{"csrf": {tc.token}})
			assert.Equal(t, http.StatusForbidden, p.Status)
			assert.Contains(t, p.Body, "Ce formulaire a expiré ; rechargez la page et réessayez.")
			it, err := d.ws.As("camille").Interaction(context.Background(), id)
			require.NoError(t, err)
			assert.Equal(t, "offered", string(it.State), "a refused form changes nothing")
		})
	}
	// Another browser's token is no better.
	other := d.browser(t)
	other.login("lucas")
	p := b.post("/i/"+id+"/accept", url.Values{"csrf": {other.csrf}})
	assert.Equal(t, http.StatusForbidden, p.Status)
	// The login form is protected too.
	fresh := d.browser(t)
	p = fresh.post("/login", url.Values{"agent": {"camille"}, "csrf": {""}})
	assert.Equal(t, http.StatusForbidden, p.Status)
}

func TestInboxAcceptAndDecline(t *testing.T) {
	d := startDesk(t)
	b := d.browser(t)
	p := b.login("camille")
	assert.Contains(t, p.Body, heleneSubject)
	assert.Contains(t, p.Body, "Accepter")
	id := d.offered(t, "camille", heleneSubject)

	p = b.post("/i/"+id+"/accept", url.Values{"back": {"/inbox"}})
	assert.Equal(t, "/i/"+id, p.Path)
	assert.Contains(t, p.Body, stateIs(interaction.StateHandling))
	p = b.get("/inbox")
	assert.Contains(t, p.Body, `href="/i/`+id+`"`, "owned now")

	lucas := d.browser(t)
	lucas.login("lucas")
	marc := d.offered(t, "lucas", "Facture en double")
	p = lucas.post("/i/"+marc+"/decline", url.Values{"back": {"/inbox"}})
	assert.Equal(t, "/inbox", p.Path)
	assert.NotContains(t, p.Body, "Facture en double")

	p = lucas.post("/status", url.Values{"status": {"not-ready"}})
	assert.Contains(t, p.Body, "<strong>Pas prêt</strong>")
	p = lucas.post("/status", url.Values{"status": {"ready"}})
	assert.Contains(t, p.Body, "<strong>Prêt</strong>")
}

func TestWindowShowsCustomerHTMLSandboxed(t *testing.T) {
	d := startDesk(t)
	b, id := accepted(t, d)
	p := b.get("/i/" + id)
	require.Equal(t, http.StatusOK, p.Status)
	assert.Contains(t, p.Raw, `sandbox=""`)
	m := regexp.MustCompile(`srcdoc="([^"]*)"`).FindStringSubmatch(p.Raw)
	require.NotNil(t, m, "the HTML is in a srcdoc frame")
	assert.Contains(t, m[1], "&lt;b&gt;bouilloire&lt;/b&gt;", "HTML escaped into the attribute, shown by the frame")
	doc := strings.ToLower(html.UnescapeString(m[1]))
	for _, bad := range []string{"<script", "onerror", "javascript:", "beacon"} {
		assert.NotContains(t, doc, bad)
	}
	for _, bad := range []string{"onerror", "javascript:", "beacon"} {
		assert.NotContains(t, strings.ToLower(p.Body), bad)
	}
	assert.Equal(t, 1, strings.Count(p.Raw, "<script"), "the desk's own script only")
	assert.Contains(t, p.Raw, `<script src="/static/desk.js" defer></script>`)
	assert.Contains(t, p.Body, "Voir le suivi", "the link's text stays, without its script")
	assert.Equal(t, contentSecurityPolicy, p.Header.Get("Content-Security-Policy"))
	assert.NotContains(t, contentSecurityPolicy, "unsafe-inline")
	// The toolbar of the reference desk.
	for _, label := range []string{"Répondre", "Répondre à tous", "Transférer", "Transférer pour aide", "Consulter", "Enregistrer dans la corbeille", "Marquer comme terminé", "Supprimer"} {
		assert.Contains(t, p.Body, ">"+label+"<")
	}
	// The contact panel, with history and a call button.
	assert.Contains(t, p.Body, "Hélène Dupré")
	assert.Contains(t, p.Body, "+33 6 12 34 56 78")
	assert.Contains(t, p.Body, "Historique du contact")
	assert.Contains(t, p.Body, ">Appeler<")
}

func TestCaseDataNotesDispositionDone(t *testing.T) {
	d := startDesk(t)
	b, id := accepted(t, d)
	here := "/i/" + id
	p := b.get(here)
	assert.Regexp(t, `<th>Canal</th>\s*<td><span class="value">email</span> <em class="ro-tag">\(lecture seule\)</em>`, p.Body)
	assert.Regexp(t, `<th>Subject</th>\s*<td><span class="value">`+heleneSubject, p.Body)

	p = b.post(here+"/casedata", url.Values{"key": {"Commande"}, "value": {"FR-2291"}, "back": {here}})
	assert.Contains(t, p.Body, `value="FR-2291"`)
	assert.NotContains(t, p.Body, `class="error"`)
	p = b.post(here+"/casedata", url.Values{"key": {"Canal"}, "value": {"téléphone"}, "back": {here}})
	assert.Contains(t, p.Body, "Vous n'avez pas le droit de faire cela sur cette interaction.")
	p = b.post(here+"/casedata", url.Values{"key": {"Transporteur"}, "value": {"Colissimo"}, "back": {here}})
	assert.Contains(t, p.Body, "Transporteur")

	p = b.post(here+"/note", url.Values{"note": {"Colis bloqué au dépôt de Lyon."}, "back": {here}})
	assert.Contains(t, p.Body, "Colis bloqué au dépôt de Lyon.")
	p = b.post(here+"/note", url.Values{"note": {"  "}, "back": {here}})
	assert.Contains(t, p.Body, "Ce qui a été saisi n'est pas accepté ; corrigez-le et réessayez.")

	p = b.post(here+"/done", url.Values{"back": {here}})
	assert.Contains(t, p.Body, `class="error"`, "a disposition is required first")
	assert.Contains(t, p.Body, stateIs(interaction.StateHandling))
	p = b.post(here+"/disposition", url.Values{"disposition": {"inventé"}, "back": {here}})
	assert.Contains(t, p.Body, "Ce qui a été saisi n'est pas accepté")
	p = b.post(here+"/disposition", url.Values{"disposition": {"résolu"}, "back": {here}})
	assert.Contains(t, p.Body, `id="disposition-code">résolu<`)
	p = b.post(here+"/done", url.Values{"back": {here}})
	assert.Contains(t, p.Body, stateIs(interaction.StateDone))
	assert.NotContains(t, p.Body, `class="error"`)
	p = b.post(here+"/note", url.Values{"note": {"trop tard"}, "back": {here}})
	assert.Contains(t, p.Body, "Cette action n'est pas possible dans l'état où se trouve l'interaction.")
}

// draftID returns the id of the draft the last answer shows.
func draftID(t *testing.T, p pageT) string {
	t.Helper()
	require.True(t, strings.HasPrefix(p.Path, "/i/"), p.Path)
	require.Contains(t, p.Body, `id="editor"`, "the draft editor")
	return strings.TrimPrefix(p.Path, "/i/")
}

// editorForm is the editor's form as the page shows it, with changes.
func editorForm(p pageT, changes url.Values) url.Values {
	f := url.Values{}
	for _, name := range []string{"to", "cc", "bcc", "subject"} {
		if m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(p.Raw); m != nil {
			f.Set(name, html.UnescapeString(m[1]))
		}
	}
	for _, name := range []string{"text", "html"} {
		if m := regexp.MustCompile(`(?s)<textarea name="` + name + `" rows="\d+">(.*?)</textarea>`).FindStringSubmatch(p.Raw); m != nil {
			f.Set(name, html.UnescapeString(m[1]))
		}
	}
	for k, v := range changes {
		f[k] = v
	}
	// As a browser sends a textarea: line ends as CRLF.
	for _, name := range []string{"text", "html"} {
		if v, ok := f[name]; ok {
			f.Set(name, strings.ReplaceAll(strings.ReplaceAll(v[0], "\r\n", "\n"), "\n", "\r\n"))
		}
	}
	f.Set("back", p.Path)
	return f
}

func TestReplyResponseReviewRejectApprove(t *testing.T) {
	d := startDesk(t)
	b, id := accepted(t, d)
	b.post("/i/"+id+"/casedata", url.Values{"key": {"Commande"}, "value": {"FR-2291"}})
	p := b.post("/i/"+id+"/reply", nil)
	draft := draftID(t, p)
	assert.Contains(t, p.Body, `value="Re: `+heleneSubject+`"`)
	assert.Contains(t, p.Body, "helene.dupre@exemple.fr")

	p = b.post("/i/"+draft+"/response", editorForm(p, url.Values{"response": {"retard"}}))
	assert.Contains(t, p.Body, "Bonjour Hélène,")
	assert.Contains(t, p.Body, "Votre commande FR-2291 a pris du retard")
	assert.Contains(t, p.Body, "Camille Laurent, Service Client")

	p = b.post("/i/"+draft+"/send", editorForm(p, nil))
	assert.Contains(t, p.Body, stateIs(interaction.StateInReview), "a new hire's email goes to review")
	assert.Empty(t, d.sender.Sent())

	rita := d.browser(t)
	p = rita.login("rita")
	assert.Equal(t, "/review", p.Path)
	review := d.offered(t, "rita", "Re: "+heleneSubject)
	p = rita.post("/review/"+review+"/accept", nil)
	assert.Contains(t, p.Body, ">Approuver<")
	p = rita.post("/review/"+review+"/reject", url.Values{"reason": {"tone"}, "remarks": {""}, "back": {"/review/" + review}})
	assert.Contains(t, p.Body, "Ce qui a été saisi n'est pas accepté", "remarks are required")
	p = rita.post("/review/"+review+"/reject", url.Values{"reason": {"tone"}, "remarks": {"Présentez des excuses pour le retard."}})
	assert.Equal(t, "/review", p.Path)

	p = b.get("/i/" + draft)
	assert.Contains(t, p.Body, stateIs(interaction.StateRejected))
	assert.Contains(t, p.Body, "Présentez des excuses pour le retard.")
	assert.Contains(t, p.Body, "<strong>Ton</strong>", "the reason's label")
	require.Contains(t, p.Body, `id="editor"`, "editable again")

	form := editorForm(p, nil)
	form.Set("text", "Bonjour Hélène,\n\nToutes nos excuses : votre commande FR-2291 arrive sous 48 heures.\n\nCamille")
	p = b.post("/i/"+draft+"/send", form)
	assert.Contains(t, p.Body, stateIs(interaction.StateInReview))

	review = d.offered(t, "rita", "Re: "+heleneSubject)
	rita.post("/review/"+review+"/accept", nil)
	p = rita.get("/review/" + review)
	assert.Contains(t, p.Body, "Toutes nos excuses")
	p = rita.post("/review/"+review+"/approve", nil)
	assert.Equal(t, "/review", p.Path)
	assert.NotContains(t, p.Body, `class="error"`)

	sent := d.sender.Sent()
	require.Len(t, sent, 1)
	assert.Equal(t, []string{"helene.dupre@exemple.fr"}, sent[0].To)
	msg, err := compose.Parse(bytes.NewReader(sent[0].Raw), nil)
	require.NoError(t, err)
	assert.Contains(t, msg.Text, "Toutes nos excuses")
	assert.Contains(t, msg.HTML, "Toutes nos excuses", "the HTML part says what the text says")
	assert.NotContains(t, msg.HTML, "a pris du retard")

	p = b.get("/i/" + draft)
	assert.Contains(t, p.Body, stateIs(interaction.StateSent))
}

func TestReviewerEditsThenApproves(t *testing.T) {
	d := startDesk(t)
	b, id := accepted(t, d)
	p := b.post("/i/"+id+"/reply", nil)
	draft := draftID(t, p)
	b.post("/i/"+draft+"/send", editorForm(p, url.Values{"text": {"Bonjour, c'est en route."}}))
	rita := d.browser(t)
	rita.login("rita")
	review := d.offered(t, "rita", "Re: "+heleneSubject)
	p = rita.post("/review/"+review+"/accept", nil)
	f := editorForm(p, url.Values{"text": {"Bonjour Hélène, votre colis est en route."}})
	p = rita.post("/review/"+review+"/edit", f)
	assert.Contains(t, p.Body, "votre colis est en route")
	rita.post("/review/"+review+"/approve", nil)
	require.Len(t, d.sender.Sent(), 1)
	assert.Contains(t, string(d.sender.Sent()[0].Raw), "votre colis est en route")
}

func TestOwnEmailSentWithoutReview(t *testing.T) {
	d := startDesk(t)
	lucas := d.browser(t)
	lucas.login("lucas")
	id := d.offered(t, "lucas", "Facture en double")
	lucas.post("/i/"+id+"/accept", nil)
	p := lucas.post("/i/"+id+"/replyall", nil)
	draft := draftID(t, p)
	p = lucas.post("/i/"+draft+"/send", editorForm(p, url.Values{"to": {"not an address"}}))
	assert.Contains(t, p.Body, "Ce qui a été saisi n'est pas accepté")
	p = lucas.post("/i/"+draft+"/send", editorForm(p, url.Values{"text": {"Remboursé."}}))
	assert.Contains(t, p.Body, stateIs(interaction.StateSent))
	require.Len(t, d.sender.Sent(), 1)
}

func TestAttachmentsUploadDownloadRemove(t *testing.T) {
	d := startDesk(t)
	b, id := accepted(t, d)
	p := b.post("/i/"+id+"/reply", nil)
	draft := draftID(t, p)

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range editorForm(p, nil) {
		require.NoError(t, mw.WriteField(k, v[0]))
	}
	require.NoError(t, mw.WriteField("csrf", b.csrf))
	fw, err := mw.CreateFormFile("file", "bon de retour.pdf")
	require.NoError(t, err)
	_, _ = fw.Write([]byte("%PDF-1.4 bon de retour"))
	require.NoError(t, mw.Close())
	p = b.read(b.c.Post(d.srv.URL+"/i/"+draft+"/attach", mw.FormDataContentType(), &body))
	assert.Contains(t, p.Body, "bon de retour.pdf")

	dr, err := d.ws.As("camille").Draft(context.Background(), draft)
	require.NoError(t, err)
	e := dr.Email
	require.Len(t, e.Attachments, 1)
	resp, err := b.c.Get(d.srv.URL + "/i/" + draft + "/att/" + e.ID + "/" + e.Attachments[0].ID)
	require.NoError(t, err)
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "%PDF-1.4 bon de retour", string(data))
	assert.Equal(t, "application/octet-stream", resp.Header.Get("Content-Type"))
	assert.Contains(t, resp.Header.Get("Content-Disposition"), "attachment")

	p = b.post("/i/"+draft+"/attach", editorForm(p, nil))
	assert.Contains(t, p.Body, "Le fichier n'a pas pu être lu ; choisissez-le de nouveau.")

	body.Reset()
	mw = multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("csrf", b.csrf))
	fw, err = mw.CreateFormFile("file", "énorme.bin")
	require.NoError(t, err)
	_, _ = fw.Write(make([]byte, maxUpload+1))
	require.NoError(t, mw.Close())
	big := b.read(b.c.Post(d.srv.URL+"/i/"+draft+"/attach", mw.FormDataContentType(), &body))
	assert.Equal(t, http.StatusRequestEntityTooLarge, big.Status)
	assert.Contains(t, big.Body, "C'est trop long ou trop volumineux")

	p = b.post("/i/"+draft+"/detach", editorForm(p, url.Values{"attachment": {e.Attachments[0].ID}}))
	assert.NotContains(t, p.Body, "bon de retour.pdf")
}

func TestTransferDialog(t *testing.T) {
	d := startDesk(t)
	b, id := accepted(t, d)
	p := b.get("/i/" + id + "/transfer")
	assert.Contains(t, p.Body, "Lucas Martin")
	assert.Contains(t, p.Body, `<option>support-fr</option>`)
	p = b.post("/i/"+id+"/transfer", url.Values{"back": {"/i/" + id + "/transfer"}})
	assert.Contains(t, p.Body, "Ce qui a été saisi n'est pas accepté", "no target")
	p = b.post("/i/"+id+"/transfer", url.Values{"agent": {"sophie"}, "back": {"/i/" + id + "/transfer"}})
	assert.Contains(t, p.Body, "Ce collègue n'est pas disponible en ce moment", "sophie is not ready")
	p = b.post("/i/"+id+"/transfer", url.Values{"agent": {"lucas"}, "note": {"Tu connais ce transporteur."}})
	assert.Equal(t, "/inbox", p.Path)
	lucas := d.browser(t)
	p = lucas.login("lucas")
	assert.Contains(t, p.Body, heleneSubject)
	lucas.post("/i/"+id+"/accept", nil)
	p = lucas.get("/i/" + id)
	assert.Contains(t, p.Body, "Tu connais ce transporteur.")
}

func TestConsultDialogAndAnswer(t *testing.T) {
	d := startDesk(t)
	b, id := accepted(t, d)
	p := b.get("/i/" + id + "/consult")
	assert.Contains(t, p.Body, `name="colleague" value="lucas"`)
	p = b.post("/i/"+id+"/consult", url.Values{"colleague": {"lucas"}, "question": {"Délai habituel chez ce transporteur ?"}})
	assert.Equal(t, "/i/"+id, p.Path)
	assert.Contains(t, p.Body, "Consultation")

	lucas := d.browser(t)
	p = lucas.login("lucas")
	assert.Contains(t, p.Body, "Consultations")
	in, err := ops{ws: d.ws}.inbox(context.Background(), "lucas")
	require.NoError(t, err)
	require.Len(t, in.Consults, 1)
	consult := in.Consults[0].ID
	lucas.post("/i/"+consult+"/accept", nil)
	p = lucas.get("/i/" + consult)
	assert.Contains(t, p.Body, "Délai habituel chez ce transporteur ?")
	p = lucas.post("/i/"+consult+"/answer", url.Values{"answer": {"Trois jours en général."}})
	assert.Equal(t, "/inbox", p.Path)
	p = b.get("/i/" + id)
	assert.Regexp(t, `(?s)Réponses des collègues</h2>\s*<ul><li><strong>lucas</strong> · [^<]*<br>Trois jours en général.</li>`, p.Body)
}

func TestForwardDialog(t *testing.T) {
	d := startDesk(t)
	b, id := accepted(t, d)
	p := b.get("/i/" + id + "/forward")
	assert.Contains(t, p.Body, `name="instructions"`)
	p = b.post("/i/"+id+"/forward", url.Values{"to": {"pas une adresse"}, "back": {"/i/" + id + "/forward"}})
	assert.Contains(t, p.Body, "Ce qui a été saisi n'est pas accepté")
	p = b.post("/i/"+id+"/forward", url.Values{"to": {"litiges@transporteur.example"}, "instructions": {"Pouvez-vous localiser ce colis ?"}})
	draftID(t, p)
	assert.Contains(t, p.Body, "litiges@transporteur.example")
	assert.Contains(t, p.Body, "Pouvez-vous localiser ce colis ?")
}

func TestWorkbinSaveAndResume(t *testing.T) {
	d := startDesk(t)
	b, id := accepted(t, d)
	p := b.post("/i/"+id+"/workbin", nil)
	assert.Equal(t, "/inbox", p.Path)
	assert.Regexp(t, `(?s)En cours</h3>\s*<ul>.*`+heleneSubject, p.Body)
	assert.Regexp(t, `(?s)En attente</h3>\s*<p class="empty">`, p.Body, "the pending workbin, empty")
	p = b.post("/i/"+id+"/resume", nil)
	assert.Contains(t, p.Body, stateIs(interaction.StateHandling))
	p = b.post("/i/"+id+"/resume", url.Values{"back": {"/i/" + id}})
	assert.Contains(t, p.Body, "Cette action n'est pas possible dans l'état où se trouve l'interaction.")
}

func TestDeleteNeedsThePrivilege(t *testing.T) {
	d := startDesk(t)
	b, id := accepted(t, d)
	p := b.post("/i/"+id+"/delete", url.Values{"back": {"/i/" + id}})
	assert.Contains(t, p.Body, "Vous n'avez pas le droit de faire cela sur cette interaction.")
}

func TestDraftsWorkbinAndDiscard(t *testing.T) {
	d := startDesk(t)
	b, id := accepted(t, d)
	draft := draftID(t, b.post("/i/"+id+"/reply", nil))
	p := b.post("/i/"+draft+"/workbin", nil)
	assert.Regexp(t, `(?s)Brouillons</h3>\s*<ul>.*Re: `+heleneSubject, p.Body)
	b.post("/i/"+draft+"/resume", nil)
	p = b.post("/i/"+draft+"/discard", nil)
	assert.Equal(t, "/inbox", p.Path)
	assert.NotContains(t, p.Body, "Re: "+heleneSubject)
}

func TestContactsDirectoryAndNewEmail(t *testing.T) {
	d := startDesk(t)
	b := d.browser(t)
	b.login("lucas")
	p := b.get("/contacts?q=helene")
	assert.Contains(t, p.Body, "Hélène Dupré")
	assert.NotContains(t, p.Body, "Marc Petit")
	p = b.post("/contacts/helene/email", url.Values{"back": {"/contacts"}})
	draftID(t, p)
	assert.Contains(t, p.Body, "helene.dupre@exemple.fr")
	p = b.post("/contacts/nobody/email", url.Values{"back": {"/contacts"}})
	assert.Contains(t, p.Body, "Cet élément n'existe pas ou plus.")
}

func TestCallTheContact(t *testing.T) {
	d := startDesk(t)
	b, id := accepted(t, d)
	p := b.post("/i/"+id+"/call", nil)
	assert.Contains(t, p.Body, "Appel lancé (appel-1)")
	assert.Equal(t, []string{"camille → +33 6 12 34 56 78"}, d.dialer.Calls())
	p = b.post("/contacts/helene/email", url.Values{"voice": {"appel-1"}, "back": {"/i/" + id}})
	draftID(t, p)
	assert.Regexp(t, `<th>Voice interaction</th>\s*<td><span class="value">appel-1</span> <em class="ro-tag">\(lecture seule\)</em>`, p.Body)
}

func TestQueuesForSupervisorOnly(t *testing.T) {
	d := startDesk(t)
	sophie := d.browser(t)
	p := sophie.login("sophie")
	assert.Equal(t, "/queues", p.Path)
	assert.Contains(t, p.Body, `<tr data-queue="support-fr">`)
	assert.Regexp(t, `<tr data-queue="support-fr"><td>support-fr</td><td class="waiting">0</td><td class="offered">2</td>`, p.Body)
	assert.Contains(t, p.Body, `<tr data-queue="review">`)

	camille := d.browser(t)
	camille.login("camille")
	p = camille.get("/queues")
	assert.Equal(t, http.StatusForbidden, p.Status)
	assert.Contains(t, p.Body, "Vous n'avez pas le droit de faire cela")
}

func TestErrorsAreSentences(t *testing.T) {
	d := startDesk(t)
	b, id := accepted(t, d)
	for _, tc := range []struct {
		name, path string
		status     int
		sentence   string
	}{
		{"not found", "/i/nothing-here", http.StatusNotFound, "Cet élément n'existe pas ou plus."},
		{"forbidden", "/i/" + d.offered(t, "lucas", "Facture en double"), http.StatusForbidden, "Vous n'avez pas le droit de faire cela sur cette interaction."},
		{"no review privilege", "/review/" + id, http.StatusForbidden, "Vous n'avez pas le droit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := b.get(tc.path)
			assert.Equal(t, tc.status, p.Status)
			assert.Contains(t, p.Body, tc.sentence)
			assert.NotContains(t, p.Body, "goroutine")
			assert.NotContains(t, p.Body, ".go:")
		})
	}
	big := strings.Repeat("très long ", 4000) // over the 32 KiB a note may hold
	p := b.post("/i/"+id+"/note", url.Values{"note": {big}, "back": {"/i/" + id}})
	assert.Contains(t, p.Body, "C'est trop long ou trop volumineux")
	p = b.post("/i/"+id+"/nonsense", url.Values{"back": {"/i/" + id}})
	assert.Contains(t, p.Body, "Cet élément n'existe pas ou plus.")
	// An error on a page that does not exist for the action goes to the
	// inbox, never to another site.
	p = b.post("/i/"+id+"/note", url.Values{"note": {""}, "back": {"//evil.example/"}})
	assert.Equal(t, "/inbox", p.Path)
}

func TestEnglish(t *testing.T) {
	d := startDesk(t)
	b, id := accepted(t, d)
	p := b.post("/lang", url.Values{"lang": {"en"}, "back": {"/i/" + id}})
	assert.Contains(t, p.Body, ">Reply all<")
	assert.Contains(t, p.Body, ">Mark done<")
	assert.Contains(t, p.Body, `id="state">`+labelsFor[english].State(interaction.StateHandling)+`<`)
	assert.Contains(t, p.Body, "(read-only)")
	p = b.post("/i/"+id+"/note", url.Values{"note": {""}, "back": {"/i/" + id}})
	assert.Contains(t, p.Body, "What was entered is not accepted; correct it and try again.")
	p = b.post("/lang", url.Values{"lang": {"fr"}, "back": {"/inbox"}})
	assert.Contains(t, p.Body, "Boîte de réception")
}

func TestEventsStreamAnOffer(t *testing.T) {
	d := startDesk(t)
	b := d.browser(t)
	b.login("camille")
	require.NoError(t, d.ws.As("lucas").SetStatus(context.Background(), emailflow.StatusNotReady))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.srv.URL+"/events", nil)
	require.NoError(t, err)
	resp, err := b.c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	r := bufio.NewReader(resp.Body)
	line, err := r.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, ": connected\n", line)

	id, err := d.ingest(context.Background(), followUpMail)
	require.NoError(t, err)
	for {
		line, err := r.ReadString('\n')
		require.NoError(t, err)
		if strings.HasPrefix(line, "data: ") && strings.Contains(line, `"type":"offered"`) {
			assert.Contains(t, line, id)
			assert.Contains(t, line, labelsFor[french].Event("offered")+" · Changement d'adresse de livraison")
			break
		}
	}
	p := b.get("/inbox/live")
	assert.Contains(t, p.Body, "Changement d'adresse de livraison")
	assert.NotContains(t, p.Body, "<html", "a fragment, not a page")
}

func TestReviewQueuePull(t *testing.T) {
	d := startDesk(t)
	require.NoError(t, d.ws.As("rita").SetStatus(context.Background(), emailflow.StatusNotReady))
	b, id := accepted(t, d)
	p := b.post("/i/"+id+"/reply", nil)
	draft := draftID(t, p)
	p = b.post("/i/"+draft+"/send", editorForm(p, url.Values{"text": {"Bonjour, c'est en route."}}))
	assert.Contains(t, p.Body, stateIs(interaction.StateInReview))

	rita := d.browser(t)
	p = rita.login("rita")
	assert.Contains(t, p.Body, ">Prendre le suivant<")
	assert.Regexp(t, `<li class="row waiting" data-id="[^"]+">Re: `+heleneSubject+` · En file`, p.Body, "a reviewer sees what waits for review")
	camille := d.browser(t)
	camille.login("camille")
	p = camille.get("/review")
	assert.Equal(t, http.StatusForbidden, p.Status, "the author is no reviewer")
	p = rita.post("/review/pull", url.Values{"back": {"/review"}})
	require.True(t, strings.HasPrefix(p.Path, "/review/"), p.Path)
	assert.Contains(t, p.Body, "c'est en route")
	assert.Contains(t, p.Body, ">Approuver<")
	p = rita.post("/review/pull", url.Values{"back": {"/review"}})
	assert.Equal(t, "/review", p.Path)
	assert.Contains(t, p.Body, "Cet élément n'existe pas ou plus.", "nothing left to pull")
}

func TestWithdrawFromReview(t *testing.T) {
	d := startDesk(t)
	b, id := accepted(t, d)
	p := b.post("/i/"+id+"/reply", nil)
	draft := draftID(t, p)
	p = b.post("/i/"+draft+"/send", editorForm(p, url.Values{"text": {"Bonjour, c'est en route."}}))
	require.Contains(t, p.Body, stateIs(interaction.StateInReview))
	assert.Contains(t, p.Body, ">Retirer de la revue<", "the author may take it back")
	review := d.offered(t, "rita", "Re: "+heleneSubject)

	p = b.post("/i/"+draft+"/withdraw", url.Values{"back": {"/i/" + draft}})
	assert.Equal(t, "/i/"+draft, p.Path)
	assert.Contains(t, p.Body, stateIs(interaction.StateDraft))
	assert.Contains(t, p.Body, `id="editor"`, "editable again")
	assert.NotContains(t, p.Body, ">Retirer de la revue<")
	assert.Empty(t, d.sender.Sent())
	rita := d.browser(t)
	rita.login("rita")
	p = rita.get("/review")
	assert.NotContains(t, p.Body, `data-id="`+review+`"`, "gone from the reviewer's desk")

	p = b.post("/i/"+draft+"/withdraw", url.Values{"back": {"/i/" + draft}})
	assert.Contains(t, p.Body, "Cette action n'est pas possible dans l'état où se trouve l'interaction.", "no longer in review")
}

func TestQuarantinePage(t *testing.T) {
	d := startDesk(t)
	sophie := d.browser(t)
	sophie.login("sophie")
	p := sophie.get("/quarantine")
	require.Equal(t, http.StatusOK, p.Status, p.Body)
	m := regexp.MustCompile(`<li class="row quarantined" data-id="([^"]+)"><a href="/i/[^"]+">Vous avez gagné un iPhone !</a>`).FindStringSubmatch(p.Body)
	require.NotNil(t, m, p.Body)
	id := m[1]
	p = sophie.get("/i/" + id)
	assert.Contains(t, p.Body, stateIs(interaction.StateQuarantined), "a supervisor opens it")

	camille := d.browser(t)
	camille.login("camille")
	p = camille.get("/quarantine")
	assert.Equal(t, http.StatusForbidden, p.Status, "an agent has no filter privilege")
	p = camille.post("/quarantine/"+id+"/release", url.Values{"back": {"/inbox"}})
	assert.Contains(t, p.Body, "Vous n'avez pas le droit de faire cela")

	p = sophie.post("/quarantine/"+id+"/release", nil)
	assert.Equal(t, "/quarantine", p.Path)
	assert.NotContains(t, p.Body, "Vous avez gagné")
	assert.Contains(t, p.Body, `<p class="empty">`)
	it, err := d.ws.As("sophie").Interaction(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, interaction.StateOffered, it.State, "routed like other mail")

	p = sophie.post("/quarantine/"+id+"/release", url.Values{"back": {"/quarantine"}})
	assert.Contains(t, p.Body, "Cette action n'est pas possible dans l'état où se trouve l'interaction.", "released once")
}
