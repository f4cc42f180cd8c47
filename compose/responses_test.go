package compose

import (
	"errors"
	"net/mail"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var fieldsOK = Fields{
	ContactFirstName: "Françoise",
	ContactLastName:  "<Dupré & Fils>",
	AgentName:        "Léa",
	InteractionID:    "int-42",
	Subject:          "Commande 1234",
	CaseData:         map[string]string{"orderId": "1234", "tracking": "{{agent.name}}"},
}

func TestTemplateFill(t *testing.T) {
	tests := []struct {
		name      string
		tmpl      Template
		fields    Fields
		subject   string
		text      string
		html      string
		missing   string
		invalidIn bool
	}{
		{
			name:    "all codes",
			tmpl:    Template{Subject: "Re {{ subject }} [{{interaction.id}}]", Text: "Bonjour {{contact.firstName}} {{contact.lastName}}, commande {{case.orderId}}. {{agent.name}}"},
			fields:  fieldsOK,
			subject: "Re Commande 1234 [int-42]",
			text:    "Bonjour Françoise <Dupré & Fils>, commande 1234. Léa",
			html:    "<p>Bonjour Françoise &lt;Dupré &amp; Fils&gt;, commande 1234. Léa</p>",
		},
		{
			name:   "html escaped",
			tmpl:   Template{Text: "Hi {{contact.lastName}}", HTML: "<p>Hi <b>{{contact.lastName}}</b></p>"},
			fields: fieldsOK,
			text:   "Hi <Dupré & Fils>",
			html:   "<p>Hi <b>&lt;Dupré &amp; Fils&gt;</b></p>",
		},
		{
			name:   "values are not expanded again",
			tmpl:   Template{Text: "Tracking {{case.tracking}}"},
			fields: fieldsOK,
			text:   "Tracking {{agent.name}}",
			html:   "<p>Tracking {{agent.name}}</p>",
		},
		{
			name:    "subject kept on one line",
			tmpl:    Template{Subject: "{{subject}}", Text: "x"},
			fields:  Fields{Subject: "a\r\nBcc: victim@example.com"},
			subject: "a  Bcc: victim@example.com",
			text:    "x",
			html:    "<p>x</p>",
		},
		{name: "missing value", tmpl: Template{Text: "Hi {{contact.firstName}}"}, fields: Fields{}, missing: "contact.firstName"},
		{name: "missing case key", tmpl: Template{Text: "{{case.orderId}}"}, fields: Fields{CaseData: map[string]string{}}, missing: "case.orderId"},
		{name: "unknown code", tmpl: Template{Text: "{{contact.shoeSize}}"}, fields: fieldsOK, invalidIn: true},
		{name: "unclosed code", tmpl: Template{Text: "Hi {{agent.name"}, fields: fieldsOK, invalidIn: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			subject, text, html, err := tt.tmpl.Fill(tt.fields)
			switch {
			case tt.missing != "":
				var mf *MissingFieldError
				require.ErrorAs(t, err, &mf)
				assert.Equal(t, tt.missing, mf.Field)
				assert.ErrorIs(t, err, ErrInvalidInput)
				assert.Contains(t, err.Error(), tt.missing)
			case tt.invalidIn:
				assert.ErrorIs(t, err, ErrInvalidInput)
			default:
				require.NoError(t, err)
				assert.Equal(t, tt.subject, subject)
				assert.Equal(t, tt.text, text)
				assert.Equal(t, tt.html, html)
			}
		})
	}
}

func TestLibrary(t *testing.T) {
	var l Library
	require.NoError(t, l.Add(Template{ID: "t2", Name: "Refund", Category: "billing", Text: "Refund for {{case.orderId}}"}))
	require.NoError(t, l.Add(Template{ID: "t1", Name: "Apology", Category: "billing", Text: "Sorry"}))
	require.NoError(t, l.Add(Template{ID: "t3", Name: "Hello", Category: "general", Text: "Hello"}))
	assert.ErrorIs(t, l.Add(Template{ID: "bad", Name: "Bad", Text: "{{nope}}"}), ErrInvalidInput)
	assert.ErrorIs(t, l.Add(Template{Name: "No id"}), ErrInvalidInput)

	assert.Equal(t, []string{"billing", "general"}, l.Categories())
	billing := l.InCategory("billing")
	require.Len(t, billing, 2)
	assert.Equal(t, "Apology", billing[0].Name)
	var all []string
	for _, x := range l.Templates() {
		all = append(all, x.ID)
	}
	assert.Equal(t, []string{"t1", "t2", "t3"}, all, "by category, then name")
	got, ok := l.Get("t2")
	require.True(t, ok)
	assert.Equal(t, "Refund", got.Name)
	l.Remove("t2")
	_, ok = l.Get("t2")
	assert.False(t, ok)
	assert.Len(t, l.Templates(), 2)
	assert.Empty(t, (&Library{}).Templates(), "the zero value is empty")
}

func TestSignaturesAndApply(t *testing.T) {
	var s Signatures
	s.SetMailbox("Support@Acme.test", Signature{Text: "Acme Support"})
	s.SetAgent("lea", Signature{Text: "Léa, {{agent.name}} team", HTML: "<b>Léa</b>"})

	sig, ok := s.For("lea", "support@acme.test")
	require.True(t, ok)
	assert.Equal(t, "<b>Léa</b>", sig.HTML)
	sig, ok = s.For("bob", "support@ACME.test")
	require.True(t, ok)
	assert.Equal(t, "Acme Support", sig.Text)
	_, ok = s.For("bob", "other@acme.test")
	assert.False(t, ok)

	orig := &Message{From: []mail.Address{{Address: "c@example.com"}}, Subject: "Help", Text: "Please help", HTML: "<p>Please help</p>"}
	d := Reply(orig, &ReplyOptions{From: testFrom})
	agentSig, _ := s.For("lea", "")
	filled, err := agentSig.Fill(Fields{AgentName: "Acme"})
	require.NoError(t, err)
	assert.Equal(t, "Léa, Acme team", filled.Text)
	filled.Apply(d)
	tmpl := Template{ID: "x", Name: "x", Text: "Hello {{contact.firstName}},\nwe are on it."}
	require.NoError(t, tmpl.Apply(d, Fields{ContactFirstName: "Ana"}))
	assert.Regexp(t, `^Hello Ana,\nwe are on it.\n-- \nLéa, Acme team\n\n\n.*wrote:\n> Please help\n$`, d.Text)
	assert.Regexp(t, `(?s)^<p>Hello Ana,<br>\nwe are on it.</p><div class="signature">-- <br><b>Léa</b></div>\n.*<blockquote`, d.HTML)

	err = tmpl.Apply(d, Fields{})
	var mf *MissingFieldError
	assert.True(t, errors.As(err, &mf))
	_, err = Render(d, nil)
	require.NoError(t, err)
}

func TestPrependHTMLOnTextDraft(t *testing.T) {
	d := Reply(&Message{From: []mail.Address{{Address: "c@example.com"}}, Text: "a < b"}, nil)
	require.Empty(t, d.HTML)
	d.Prepend("Hi", "<p>Hi</p>")
	assert.Contains(t, d.HTML, "<p>Hi</p><div>")
	assert.Contains(t, d.HTML, "&gt; a &lt; b")
	assert.Equal(t, "Hi\n\nc@example.com wrote:\n> a < b\n", d.Text)
}
