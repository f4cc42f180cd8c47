package emailflow_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/mail"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
)

// replyDraft has alice accept the French HTML email and start a reply.
func replyDraft(t *testing.T, f *fixture) *emailflow.Draft {
	t.Helper()
	f.agent(t, "alice")
	id := f.handled(t, "alice")
	d, err := f.ws.As("alice").Reply(context.Background(), id)
	require.NoError(t, err)
	require.NotEmpty(t, d.Email.HTML, "the customer wrote HTML: the reply quotes it")
	return d
}

// An edit changes only the fields it sets; a pointer to an empty value
// clears one.
func TestEditDraftPatchesOnlyTheFieldsGiven(t *testing.T) {
	ctx := context.Background()
	cc := []mail.Address{{Name: "Marc", Address: "marc@exemple.fr"}}
	tests := []struct {
		name  string
		patch emailflow.DraftPatch
		check func(t *testing.T, before, after *emailflow.Email)
	}{
		{"subject only", emailflow.DraftPatch{Subject: new("Re: votre bouilloire")}, func(t *testing.T, before, after *emailflow.Email) {
			assert.Equal(t, "Re: votre bouilloire", after.Subject)
			assert.Equal(t, before.To, after.To)
			assert.Equal(t, before.Text, after.Text)
			assert.Equal(t, before.HTML, after.HTML, "the quoted HTML is kept")
		}},
		{"cc only", emailflow.DraftPatch{Cc: &cc}, func(t *testing.T, before, after *emailflow.Email) {
			assert.Equal(t, cc, after.Cc)
			assert.Equal(t, before.To, after.To)
			assert.Equal(t, before.Subject, after.Subject)
			assert.Equal(t, before.HTML, after.HTML)
		}},
		{"clear the HTML", emailflow.DraftPatch{HTML: new("")}, func(t *testing.T, before, after *emailflow.Email) {
			assert.Empty(t, after.HTML)
			assert.Equal(t, before.Text, after.Text)
			assert.Equal(t, before.To, after.To)
		}},
		{"nothing", emailflow.DraftPatch{}, func(t *testing.T, before, after *emailflow.Email) {
			assert.Equal(t, before.To, after.To)
			assert.Equal(t, before.Subject, after.Subject)
			assert.Equal(t, before.Text, after.Text)
			assert.Equal(t, before.HTML, after.HTML)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			d := replyDraft(t, f)
			got, err := f.ws.As("alice").EditDraft(ctx, d.ID, tt.patch)
			require.NoError(t, err)
			tt.check(t, d.Email, got.Email)
			stored, err := f.ws.As("alice").Draft(ctx, d.ID)
			require.NoError(t, err)
			assert.Equal(t, got.Email, stored.Email, "EditDraft returns the draft as stored")
		})
	}
}

// Editing the text of an HTML draft keeps the HTML in step: the agent's
// part is made again from the text, and the original (a reply's "On …
// wrote:" line and quote, a forward's header and message) stays as it was.
func TestEditDraftTextKeepsTheHTMLInStep(t *testing.T) {
	ctx := context.Background()
	starters := []struct {
		name     string
		start    func(a *emailflow.Actor, id string) (*emailflow.Draft, error)
		original []string
	}{
		{"reply", func(a *emailflow.Actor, id string) (*emailflow.Draft, error) { return a.Reply(ctx, id) },
			[]string{"wrote:</div>", `<blockquote type="cite"`, "une bouilloire le 12 novembre"}},
		{"forward", func(a *emailflow.Actor, id string) (*emailflow.Draft, error) {
			return a.Forward(ctx, id, emailflow.ForwardRequest{To: []mail.Address{{Address: "transporteur@partner.example"}}, Instructions: "Où est ce colis ?"})
		}, []string{"Forwarded message", "<b>From:</b>", "une bouilloire le 12 novembre"}},
	}
	for _, s := range starters {
		t.Run(s.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.agent(t, "alice")
			id := f.handled(t, "alice")
			d, err := s.start(f.ws.As("alice"), id)
			require.NoError(t, err)
			require.NotEmpty(t, d.Email.HTML)
			_, quotedText := compose.SplitQuoted(d.Email.Text)

			text := "Bonjour,\n\nVotre bouilloire <neuve> part demain.\n\n" + quotedText
			got, err := f.ws.As("alice").EditDraft(ctx, d.ID, emailflow.DraftPatch{Text: &text})
			require.NoError(t, err)
			assert.Equal(t, text, got.Email.Text)
			h := got.Email.HTML
			assert.Contains(t, h, "Votre bouilloire &lt;neuve&gt; part demain.", "the new text, escaped")
			assert.NotContains(t, h, "Où est ce colis", "the old own part is gone")
			for _, o := range s.original {
				assert.Contains(t, h, o, "the original's HTML is kept")
			}
			assert.Less(t, strings.Index(h, "part demain"), strings.Index(h, s.original[0]), "the agent writes above it")
		})
	}

	// Given both, the HTML is the agent's own.
	f := newFixture(t, nil)
	d := replyDraft(t, f)
	got, err := f.ws.As("alice").EditDraft(ctx, d.ID, emailflow.DraftPatch{Text: new("Court."), HTML: new("<p>Court.</p>")})
	require.NoError(t, err)
	assert.Equal(t, "<p>Court.</p>", got.Email.HTML)
}

// ReplaceDraft is the explicit way to replace everything: what it leaves
// out is cleared.
func TestReplaceDraftReplacesEverything(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	d := replyDraft(t, f)
	got, err := f.ws.As("alice").ReplaceDraft(ctx, d.ID, emailflow.DraftContent{To: d.Email.To, Text: "Seul le texte."})
	require.NoError(t, err)
	assert.Equal(t, d.Email.To, got.Email.To)
	assert.Empty(t, got.Email.Subject)
	assert.Empty(t, got.Email.HTML)
	assert.Empty(t, got.Email.Cc)
	assert.Equal(t, "Seul le texte.", got.Email.Text)
}

// A refused edit changes nothing, whichever field is wrong.
func TestEditDraftRefusedChangesNothing(t *testing.T) {
	ctx := context.Background()
	bad := []mail.Address{{Address: "not an address"}}
	tests := []struct {
		name  string
		patch emailflow.DraftPatch
		want  error
	}{
		{"bad address beside a good subject", emailflow.DraftPatch{Subject: new("ok"), To: &bad}, emailflow.ErrInvalidInput},
		{"header injection", emailflow.DraftPatch{Subject: new("a\r\nBcc: x@evil.example")}, emailflow.ErrInvalidInput},
		{"unknown attachment", emailflow.DraftPatch{Subject: new("ok"), RemoveAttachments: []string{"nope"}}, emailflow.ErrNotFound},
		{"From not ours", emailflow.DraftPatch{Subject: new("ok"), From: new("someone@else.example")}, emailflow.ErrFromNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil)
			d := replyDraft(t, f)
			_, err := f.ws.As("alice").EditDraft(ctx, d.ID, tt.patch)
			require.ErrorIs(t, err, tt.want)
			assertStored(t, f, "alice", d)
		})
	}
}

// assertStored checks that draft d is as agent's Draft reads it.
func assertStored(t *testing.T, f *fixture, agent string, d *emailflow.Draft) {
	t.Helper()
	read, err := f.ws.As(agent).Draft(context.Background(), d.ID)
	require.NoError(t, err)
	assert.Equal(t, d.Email, read.Email)
	assert.Equal(t, d.Version, read.Version)
}

// The agent's HTML is sanitized with the policy of customer HTML:
// formatting, links, cid: images and tables stay; scripts, handlers and
// forms go, in the stored draft and in what is sent.
func TestAgentHTMLIsSanitized(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, nil)
	d := replyDraft(t, f)
	dirty := `<p style="color:red" onclick="steal()">Bonjour <b>Hélène</b>, <a href="https://boutique.example/suivi">suivi</a></p>` +
		`<table><tr><td>FR-2291</td></tr></table><img src="cid:logo@boutique.example" alt="logo">` +
		`<script>steal()</script><form action="https://evil.example"><input name="cb"></form>` +
		`<a href="javascript:steal()">x</a><img src="https://tracker.example/p.gif">`
	got, err := f.ws.As("alice").EditDraft(ctx, d.ID, emailflow.DraftPatch{HTML: &dirty})
	require.NoError(t, err)
	h := got.Email.HTML
	for _, kept := range []string{"<b>Hélène</b>", `href="https://boutique.example/suivi"`, "<table>", "<td>FR-2291</td>", `src="cid:logo@boutique.example"`} {
		assert.Contains(t, h, kept)
	}
	for _, dropped := range []string{"onclick", "<script", "steal()", "<form", "<input", "javascript:", "tracker.example"} {
		assert.NotContains(t, h, dropped)
	}

	_, err = f.ws.As("alice").Send(ctx, d.ID, nil)
	require.NoError(t, err)
	require.Len(t, f.sender.Sent(), 1)
	assert.NotContains(t, string(f.sender.Sent()[0].Raw), "<script")
}

// An agent embeds an image: an inline part with a Content-ID that the HTML
// shows by cid:, sent as multipart/related; an image pasted as a data: URL
// becomes one too.
func TestDraftInlineImages(t *testing.T) {
	ctx := context.Background()
	png, err := base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
	require.NoError(t, err)
	f := newFixture(t, nil)
	d := replyDraft(t, f)
	alice := f.ws.As("alice")

	logo, err := alice.AddAttachment(ctx, d.ID, emailflow.NewAttachment{Filename: "logo.png", ContentType: "image/png", Body: bytes.NewReader(png), Inline: true})
	require.NoError(t, err)
	require.True(t, logo.Inline)
	require.NotEmpty(t, logo.ContentID)
	pasted := `<p>Notre logo <img src="cid:` + logo.ContentID + `"> et la photo <img src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(png) + `"></p>`
	got, err := alice.EditDraft(ctx, d.ID, emailflow.DraftPatch{HTML: &pasted})
	require.NoError(t, err)
	assert.NotContains(t, got.Email.HTML, "data:", "the pasted image is a part now")
	var inline []emailflow.Attachment
	for _, a := range got.Email.Attachments {
		if a.Inline {
			inline = append(inline, a)
			assert.Contains(t, got.Email.HTML, `src="cid:`+a.ContentID+`"`)
		}
	}
	require.Len(t, inline, 2)

	_, err = alice.AddAttachment(ctx, d.ID, emailflow.NewAttachment{Filename: "x.png", ContentType: "image/png", Body: bytes.NewReader(png), Inline: true, ContentID: logo.ContentID})
	assert.ErrorIs(t, err, emailflow.ErrInvalidInput, "a Content-ID once per draft")
	_, err = alice.AddAttachment(ctx, d.ID, emailflow.NewAttachment{Filename: "x.png", ContentType: "image/png", Body: bytes.NewReader(png), Inline: true, ContentID: "no at sign"})
	assert.ErrorIs(t, err, emailflow.ErrInvalidInput)

	sent, err := alice.Send(ctx, d.ID, nil)
	require.NoError(t, err)
	raw := string(sent.Email.Raw)
	assert.Contains(t, raw, "multipart/related")
	for _, a := range inline {
		assert.Contains(t, raw, "Content-ID: <"+a.ContentID+">")
	}
	msg, err := compose.Parse(strings.NewReader(raw), nil)
	require.NoError(t, err)
	n := 0
	for _, a := range msg.Attachments {
		if a.Inline && a.ContentID != "" {
			n++
		}
	}
	assert.Equal(t, 2, n, "the recipient's reader finds both inline images")
}

// A draft may leave from another mailbox of its queue; other mailboxes are
// refused with ErrFromNotAllowed (an ErrForbidden); by default it leaves
// from the receiving mailbox.
func TestDraftFromAmongTheQueuesMailboxes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, &emailflow.Options{Mailboxes: []emailflow.Mailbox{
		{Address: support, Name: "Service Client", Queue: "support-fr"},
		{Address: "ventes@boutique.example", Name: "Ventes", Queue: "support-fr"},
		{Address: "factures@boutique.example", Name: "Facturation", Queue: "billing"},
	}})
	d := replyDraft(t, f)
	assert.Equal(t, mail.Address{Name: "Service Client", Address: support}, d.Email.From, "the default is unchanged")

	_, err := f.ws.As("alice").EditDraft(ctx, d.ID, emailflow.DraftPatch{From: new("factures@boutique.example")})
	require.ErrorIs(t, err, emailflow.ErrFromNotAllowed)
	assert.ErrorIs(t, err, emailflow.ErrForbidden)
	_, err = f.ws.As("alice").EditDraft(ctx, d.ID, emailflow.DraftPatch{From: new("ceo@boutique.example")})
	require.ErrorIs(t, err, emailflow.ErrFromNotAllowed)

	got, err := f.ws.As("alice").EditDraft(ctx, d.ID, emailflow.DraftPatch{From: new("Ventes@boutique.example")})
	require.NoError(t, err)
	assert.Equal(t, mail.Address{Name: "Ventes", Address: "ventes@boutique.example"}, got.Email.From)
	assert.Equal(t, "ventes@boutique.example", got.Mailbox)
	sent, err := f.ws.As("alice").Send(ctx, d.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, "ventes@boutique.example", f.sender.Sent()[0].From, "the envelope leaves from it too")
	assert.Contains(t, string(sent.Email.Raw), `From: "Ventes" <ventes@boutique.example>`)
}
