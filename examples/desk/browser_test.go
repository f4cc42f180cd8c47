package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/interaction"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// chromium returns the path of a Chromium or Chrome, or "" when there is
// none.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// screenshot writes a PNG of the whole page under the test's temp dir and,
// when DESK_SCREENSHOTS names a directory, there too (how docs/desk-*.png
// are made).
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(t.TempDir(), name), png, 0o644))
	if dir := os.Getenv("DESK_SCREENSHOTS"); dir != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), png, 0o644))
	}
}

// TestBrowserScenario drives the desk in a real Chromium: an offer arrives
// live, the agent accepts Hélène's email, reads it (its scripts never
// run), adds case data and a note, replies with a standard response and
// sends; the reviewer rejects with remarks (the agent sees "Refusé" and
// the remarks), the agent corrects and sends again, the reviewer approves;
// the customer's copy is in the Sender; disposition and Mark done.
func TestBrowserScenario(t *testing.T) {
	path := chromium()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed: .ci/chromium.sh installs it (apt-get install chromium)")
		}
		t.Skip("chromium is not installed (apt-get install chromium, or run .ci/chromium.sh); the browser test needs it")
	}
	if testing.Short() {
		t.Skip("the browser test is not short")
	}

	// Anything the customer's HTML manages to run calls /beacon.
	var beacons, controls atomic.Int64
	d := startDeskWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/beacon-control" {
				controls.Add(1)
				return
			}
			if r.URL.Path == "/beacon" {
				beacons.Add(1)
				t.Errorf("script from the mail ran: %s", r.URL.RawQuery)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	helene := d.offered(t, "camille", heleneSubject)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(1280, 1000))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(allocCtx)
	defer cancel()
	// A bound against a hung browser, not a speed check: on a loaded
	// 2-core machine, beside the PostgreSQL tests, the scenario has taken
	// over two minutes.
	ctx, cancelTimeout := context.WithTimeout(ctx, 6*time.Minute)
	defer cancelTimeout()

	start := time.Now()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, steps...), what)
		t.Logf("%6.2fs %s", time.Since(start).Seconds(), what)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		require.NoError(t, err, sel)
		return s
	}
	css := func(s string) chromedp.CSS { return chromedp.CSS(s) }
	// submit clicks a button that loads a new page and waits for then on
	// that page, not on the one being left: the page is marked first.
	submit := func(button, then string) chromedp.Action[chromedp.Void] {
		mark := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`(document.body.dataset.stale = "1", true)`)(ctx, t)
			return err
		})
		return chromedp.Steps(mark, chromedp.Click(css(button)), chromedp.WaitVisible(css(`body:not([data-stale]) `+then)))
	}
	login := func(agent, landing string) {
		t.Helper()
		do("log in as "+agent,
			chromedp.Navigate(d.srv.URL+"/login"),
			chromedp.WaitVisible(css("#agent")),
			chromedp.SetValue(css("#agent"), agent),
			submit("#login", landing),
		)
	}
	logout := func() {
		t.Helper()
		do("log out", submit(`form[action="/logout"] button`, "#login"))
	}

	// The login screen says it is a demo.
	do("open the desk", chromedp.Navigate(d.srv.URL), chromedp.WaitVisible(css("p.demo")))
	assert.Contains(t, text("p.demo"), "Démonstration")

	// Camille logs in; an offer arrives without reloading the page.
	login("camille", `li.offer[data-id="`+helene+`"]`)
	do("wait for the live stream", chromedp.WaitVisible(css(`body[data-live="on"]`)))
	_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.sameDocument = true`))
	require.NoError(t, err)
	require.NoError(t, d.ws.As("lucas").SetStatus(context.Background(), emailflow.StatusNotReady))
	live, err := d.ingest(context.Background(), followUpMail)
	require.NoError(t, err)
	do("the offer appears live", chromedp.WaitVisible(css(`li.offer[data-id="`+live+`"]`)))
	same, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.sameDocument === true`))
	require.NoError(t, err)
	assert.True(t, same, "the inbox was not reloaded")
	assert.Contains(t, text("#news"), labelsFor[french].Event("offered")+" · Changement d'adresse de livraison")

	// She accepts Hélène's email and reads it.
	do("accept",
		submit(`li.offer[data-id="`+helene+`"] button.accept`, `article.window[data-state="handling"]`),
		chromedp.WaitVisible(css("iframe.mail-html")),
	)
	assert.Equal(t, labelsFor[french].State(interaction.StateHandling), text("#state"))
	srcdoc, err := chromedp.Run(ctx, chromedp.AttributeValue(css("iframe.mail-html"), "srcdoc"))
	require.NoError(t, err)
	assert.Contains(t, srcdoc.Value, "<b>bouilloire</b>")
	sandbox, err := chromedp.Run(ctx, chromedp.AttributeValue(css("iframe.mail-html"), "sandbox"))
	require.NoError(t, err)
	assert.True(t, sandbox.Exists)
	assert.Empty(t, sandbox.Value, "a sandbox without allow-scripts")
	for _, bad := range []string{"<script", "onerror", "javascript:"} {
		assert.NotContains(t, strings.ToLower(srcdoc.Value), bad)
	}
	// Inside the frame (its own process: a sandboxed frame has an opaque
	// origin): the mail is shown, with no script element, no handler, and
	// the link without its javascript: target; clicking it does nothing.
	var frameCtx context.Context
	require.Eventually(t, func() bool {
		infos, err := chromedp.Targets(ctx)
		require.NoError(t, err)
		for _, info := range infos {
			if info.Type == "iframe" && info.URL == "about:srcdoc" {
				var cancelFrame context.CancelFunc
				frameCtx, cancelFrame = chromedp.NewContext(ctx, chromedp.WithTargetID(info.TargetID))
				t.Cleanup(cancelFrame)
				return true
			}
		}
		return false
	}, 10*time.Second, 100*time.Millisecond, "the mail's frame")
	inFrame := func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(frameCtx, a), what)
	}
	body, err := chromedp.Run(frameCtx, chromedp.Text(css("body")))
	require.NoError(t, err)
	assert.Contains(t, body, "bouilloire")
	scripts, err := chromedp.Run(frameCtx, chromedp.Nodes(chromedp.CSSAll("script"), chromedp.AtLeast(0)))
	require.NoError(t, err)
	assert.Empty(t, scripts)
	img, err := chromedp.Run(frameCtx, chromedp.Attributes(css("img")))
	require.NoError(t, err)
	assert.NotContains(t, img, "onerror")
	link, err := chromedp.Run(frameCtx, chromedp.Attributes(css("a#suivi")))
	require.NoError(t, err)
	assert.NotContains(t, link["href"], "javascript:")
	inFrame("click the mail's link", chromedp.Click(css("a#suivi")))
	// The beacon would be heard: a request made from the frame's document
	// reaches the desk.
	_, err = chromedp.Run(frameCtx, chromedp.Evaluate[bool](`(new Image().src = "/beacon-control", true)`))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return controls.Load() == 1 }, 5*time.Second, 50*time.Millisecond, "a request from the frame reaches the desk")
	// Even markup put into the frame afterwards (as if the sanitizer had
	// missed it) cannot run there: the sandbox has no allow-scripts and
	// the page's policy allows no inline script.
	_, err = chromedp.Run(frameCtx, chromedp.Evaluate[bool](`(function () {
		var s = document.createElement("script");
		s.textContent = "new Image().src = '/beacon?via=injected-script'";
		document.body.appendChild(s);
		document.body.insertAdjacentHTML("beforeend", "<img src=x onerror=\"new Image().src = '/beacon?via=injected-onerror'\">");
		return true;
	})()`))
	require.NoError(t, err)
	time.Sleep(500 * time.Millisecond) // time for a beacon that should never come

	// Case data and a note.
	do("case data",
		chromedp.SendKeys(css(`input[aria-label="Commande"]`), "FR-2291"),
		submit(`form:has(input[aria-label="Commande"]) button`, `input[aria-label="Commande"][value="FR-2291"]`),
	)
	do("note",
		chromedp.SendKeys(css(`.notes textarea[name="note"]`), "Colis bloqué au dépôt de Lyon, transporteur relancé."),
		submit(`.notes button`, `.notes li`),
	)
	assert.Contains(t, text(".notes li"), "Colis bloqué au dépôt de Lyon")
	assert.Contains(t, text(".casedata"), "lecture seule")
	screenshot(t, ctx, "desk-window.png")

	// She replies with a standard response and sends: it goes to review.
	do("reply",
		submit(`button.act-reply`, `#editor`),
		chromedp.SetValue(css(`select[name="response"]`), "retard"),
		submit(`button.act-response`, `#editor`),
	)
	draftURL, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	reply := draftURL[strings.LastIndex(draftURL, "/")+1:]
	body, err = chromedp.Run(ctx, chromedp.Value(css(`textarea[name="text"]`)))
	require.NoError(t, err)
	assert.Contains(t, body, "Bonjour Hélène,")
	assert.Contains(t, body, "Votre commande FR-2291 a pris du retard")
	do("send",
		submit(`button.act-send`, `article.window[data-state="in-review"]`),
	)
	assert.Equal(t, labelsFor[french].State(interaction.StateInReview), text("#state"))
	assert.Empty(t, d.sender.Sent())

	// Rita rejects it with remarks.
	logout()
	login("rita", `li.review`)
	do("take the review",
		submit(`li.review button.accept`, `button.act-reject`),
		chromedp.SetValue(css(`select[name="reason"]`), "tone"),
		chromedp.SendKeys(css(`textarea[name="remarks"]`), "Présentez d'abord des excuses pour le retard."),
	)
	screenshot(t, ctx, "desk-review.png")
	do("reject", submit(`button.act-reject`, `h1`))

	// Camille sees "Refusé" and the remarks, corrects, sends again.
	logout()
	login("camille", `#live`)
	do("open the rejected reply",
		chromedp.Navigate(d.srv.URL+"/i/"+reply),
		chromedp.WaitVisible(css(`#rejected`)),
	)
	assert.Equal(t, "Refusé", text("#state"))
	assert.Contains(t, text("#rejected"), "Présentez d'abord des excuses pour le retard.")
	do("correct and send",
		chromedp.SetValue(css(`textarea[name="text"]`), "Bonjour Hélène,\n\nToutes nos excuses pour ce retard : votre commande FR-2291 vous sera livrée sous 48 heures.\n\nCamille Laurent, Service Client"),
		submit(`button.act-send`, `article.window[data-state="in-review"]`),
	)

	// Rita approves; the customer's copy is in the Sender.
	logout()
	login("rita", `li.review`)
	do("approve",
		submit(`li.review button.accept`, `button.act-approve`),
		submit(`button.act-approve`, `h1`),
	)
	sent := d.sender.Sent()
	require.Len(t, sent, 1)
	assert.Equal(t, []string{"helene.dupre@exemple.fr"}, sent[0].To)
	msg, err := compose.Parse(bytes.NewReader(sent[0].Raw), nil)
	require.NoError(t, err)
	assert.Contains(t, msg.Text, "Toutes nos excuses pour ce retard")
	assert.Contains(t, msg.HTML, "Toutes nos excuses pour ce retard")

	// Camille settles the email: disposition, then Mark done.
	logout()
	login("camille", `#live`)
	do("disposition and done",
		chromedp.Navigate(d.srv.URL+"/i/"+helene),
		chromedp.WaitVisible(css(`article.window[data-state="handling"]`)),
		chromedp.SetValue(css(`select[name="disposition"]`), "résolu"),
		submit(`.disposition button`, `#disposition-code`),
		submit(`button.act-done`, `article.window[data-state="done"]`),
	)
	assert.Equal(t, labelsFor[french].State(interaction.StateDone), text("#state"))
	assert.Equal(t, "résolu", text("#disposition-code"))
	assert.Zero(t, beacons.Load(), "no script from the mail ever ran")
}
