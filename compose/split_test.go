package compose

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSplitQuotedCorpus runs SplitQuoted over the reply bodies of
// testdata/email_reply_parser (from github/email_reply_parser, MIT licence,
// see its LICENSE).
func TestSplitQuotedCorpus(t *testing.T) {
	tests := []struct {
		file        string
		newPrefix   string
		newSuffix   string
		quotedStart string // "" when nothing is quoted
		quotedHas   string
	}{
		{"correct_sig.txt", "this is an email with a correct -- signature.", "rick", "", ""},
		{"email_1_1.txt", "Hi folks", "listinfo/riak-users_lists.basho.com", "", ""},
		{"email_1_2.txt", "Hi,\n\nYou can list the keys", "listinfo/riak-users_lists.basho.com", "On Tue, 2011-03-01 at 18:02 +0530, Abhishek Kona wrote:", "> What is the best way to clear a Riak bucket"},
		{"email_1_3.txt", "Oh thanks.\n\nHaving the function would be great.\n\n-Abhishek Kona", "listinfo/riak-users_lists.basho.com", "On 01/03/11 7:07 PM, Russell Brown wrote:", ">> Hi folks"},
		{"email_1_4.txt", "Awesome! I haven't had another problem with it.", "Awesome! I haven't had another problem with it.", "On Aug 22, 2011, at 7:37 PM, defunkt<reply@reply.github.com> wrote:", "> Loader seems to be working well."},
		{"email_1_5.txt", "One: Here's what I've got.", "for a while.", "", ""},
		{"email_1_6.txt", "I get proper rendering as well.", "Sent from a magnificent torch of pixels", "On Dec 16, 2011, at 12:47 PM, Corey Donohoe\n<reply@reply.github.com>\nwrote:", "> Was this caching related"},
		{"email_1_7.txt", ":+1:", ":+1:", "On Tue, Sep 25, 2012 at 8:59 AM, Chris Wanstrath\n<notifications@github.com>wrote:", "> Steps 0-2 are in prod."},
		{"email_1_8.txt", "I will reply under this one", "Hey there, this is my signature", "On Tue, Apr 29, 2014 at 4:22 PM, Example Dev <sugar@example.com>wrote:", "> > hi there"},
		{"email_2_1.txt", "Outlook with a reply", "Outlook with a reply", "------------------------------\n\n*From:* Google Apps Sync Team", "Dear Google Apps Sync user,"},
		{"email_2_2.txt", "Outlook with a reply directly above line", "Outlook with a reply directly above line", "________________________________________\nFrom: CRM Comments", "I am replying to a comment."},
		{"email_2_3.txt", "Outlook with a reply directly above line", "Outlook with a reply directly above line", "From: CRM Comments [crm-comment@example.com]\nSent:", "> I am replying to a comment."},
		{"email_BlackBerry.txt", "Here is another email", "Sent from my BlackBerry", "", ""},
		{"email_bullets.txt", "test 2 this should list second", "*Joe Smith | Director, Product Management*", "On Fri, Feb 24, 2012 at 10:19 AM, <examples@email.goalengine.com> wrote:", "> Give us an example"},
		{"email_iPhone.txt", "Here is another email", "Sent from my iPhone", "", ""},
		{"email_long_quote.txt", "Hi folks", "", ">>>>>>>>>>", ""},
		{"email_multi_word_sent_from_my_mobile_device.txt", "Here is another email", "Sent from my Verizon Wireless BlackBerry", "", ""},
		{"email_one_is_not_on.txt", "Thank, this is really helpful.\n\nOne outstanding question I had:", "when I run...", "On Oct 1, 2012, at 11:55 PM, Dave Tapley wrote:", "> The good news"},
		{"email_sent_from_my_not_signature.txt", "Here is another email", "then my mobile phone.", "", ""},
		{"email_sig_delimiter_in_middle_of_line.txt", "Hi there!", "kthxbai", "", ""},
		{"greedy_on.txt", "On your remote host you can run:", "the tunnel is not working.", "On 9 Jan 2014, at 2:47, George Plymale wrote:", "> I am having an odd issue"},
		{"pathological.txt", "I think you're onto something.", "get back to a computer.", `On Dec 8, 2013 2:10 PM, "John Sullivan" <notifications@github.com> wrote:`, "> score: 39.0"},
	}
	files, err := filepath.Glob("testdata/email_reply_parser/*.txt")
	require.NoError(t, err)
	require.Len(t, files, len(tests), "every corpus file has a row")
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata/email_reply_parser", tt.file))
			require.NoError(t, err)
			newText, quoted := SplitQuoted(string(raw))
			assert.True(t, strings.HasPrefix(newText, tt.newPrefix), "new text: %q", head(newText))
			assert.True(t, strings.HasSuffix(newText, tt.newSuffix), "new text: %q", tail(newText))
			if tt.quotedStart == "" {
				assert.Empty(t, quoted)
			} else {
				assert.True(t, strings.HasPrefix(quoted, tt.quotedStart), "quoted: %q", head(quoted))
			}
			assert.Contains(t, quoted, tt.quotedHas)
			for _, line := range strings.Split(newText, "\n") {
				if tt.file != "email_long_quote.txt" {
					assert.False(t, strings.HasPrefix(line, ">"), "quoted line left in new text: %q", line)
				}
			}
		})
	}
}

func head(s string) string {
	if len(s) > 120 {
		return s[:120]
	}
	return s
}

func tail(s string) string {
	if len(s) > 120 {
		return s[len(s)-120:]
	}
	return s
}

func TestSplitQuotedClients(t *testing.T) {
	tests := []struct {
		name, text, newText, quotedStart string
	}{
		{"gmail", "Thanks!\n\nOn Mon, Jan 5, 2026 at 10:00 AM Ana Ruiz <ana@example.es> wrote:\n> Hello\n", "Thanks!", "On Mon, Jan 5"},
		{"outlook original message", "Done.\r\n\r\n-----Original Message-----\r\nFrom: Bob\r\nSent: Monday\r\n\r\nOld text\r\n", "Done.", "-----Original Message-----"},
		{"outlook french", "C'est fait.\n\n________________________________\nDe : Service Client <sc@example.fr>\nEnvoyé : lundi 5 janvier 2026 10:00\nÀ : moi@example.fr\nObjet : Commande\n\nAncien texte\n", "C'est fait.", "________________________________\nDe : Service Client"},
		{"outlook german", "Erledigt.\n\nVon: Kunde <k@example.de>\nGesendet: Montag, 5. Januar 2026 10:00\nAn: uns@example.de\n\nAlt\n", "Erledigt.", "Von: Kunde"},
		{"outlook spanish", "Hecho.\n\nDe: Cliente <c@example.es>\nEnviado el: lunes, 5 de enero de 2026 10:00\nPara: nos@example.es\n\nViejo\n", "Hecho.", "De: Cliente"},
		{"french attribution", "Merci.\n\nLe lun. 5 janv. 2026 à 10:00, Ana <ana@example.fr> a écrit :\n> Bonjour\n", "Merci.", "Le lun. 5 janv."},
		{"german attribution", "Danke.\n\nAm 05.01.2026 um 10:00 schrieb Ana <ana@example.de>:\n> Hallo\n", "Danke.", "Am 05.01.2026"},
		{"spanish attribution", "Gracias.\n\nEl lun, 5 ene 2026 a las 10:00, Ana (<ana@example.es>) escribió:\n> Hola\n", "Gracias.", "El lun, 5 ene"},
		{"apple mail", "Sure.\n\n> On 5 Jan 2026, at 10:00, Ana <ana@example.com> wrote:\n> \n> Hi\n", "Sure.", "> On 5 Jan 2026"},
		{"thunderbird", "Yes.\n\nOn 1/5/26 10:00 AM, Ana wrote:\n> Question?\n", "Yes.", "On 1/5/26 10:00 AM, Ana wrote:"},
		{"apple forward", "FYI\n\nBegin forwarded message:\n\nFrom: x@example.com\n", "FYI", "Begin forwarded message:"},
		{"no quote", "Just text.\nOn second thought, nothing.", "Just text.\nOn second thought, nothing.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, q := SplitQuoted(tt.text)
			assert.Equal(t, tt.newText, n)
			if tt.quotedStart == "" {
				assert.Empty(t, q)
			} else {
				assert.True(t, strings.HasPrefix(q, tt.quotedStart), "quoted: %q", q)
			}
		})
	}
}

func TestSplitQuotedHTML(t *testing.T) {
	tests := []struct {
		name, html, newHTML string
	}{
		{"gmail", `<div>Thanks</div><div class="gmail_quote"><div>On … wrote:</div><blockquote>x</blockquote></div>`, `<div>Thanks</div>`},
		{"outlook", `<p>Done</p><div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> x</div>`, `<p>Done</p>`},
		{"outlook rply only", `<p>Done</p><div id="divRplyFwdMsg" dir="ltr">x</div>`, `<p>Done</p>`},
		{"apple", `<div>Sure</div><div><br><blockquote type="cite">On … wrote:</blockquote></div>`, `<div>Sure</div><div><br>`},
		{"thunderbird", `<p>Yes</p><div class="moz-cite-prefix">On … wrote:</div><blockquote type="cite">q</blockquote>`, `<p>Yes</p>`},
		{"none", `<p>Hello</p>`, `<p>Hello</p>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, q := SplitQuotedHTML(tt.html)
			assert.Equal(t, tt.newHTML, n)
			assert.Equal(t, tt.html, n+q)
		})
	}
}
