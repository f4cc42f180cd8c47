package compose_test

import (
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/emailflow/emailflow/compose"
)

const customerMail = "From: =?utf-8?q?Fran=C3=A7oise_Dupr=C3=A9?= <francoise@example.fr>\r\n" +
	"To: Acme Support <support@acme.test>\r\n" +
	"Subject: =?iso-8859-1?q?Colis_ab=EEm=E9?=\r\n" +
	"Date: Mon, 23 Nov 2026 09:15:00 +0100\r\n" +
	"Message-ID: <m1@example.fr>\r\n" +
	"Content-Type: text/plain; charset=iso-8859-1\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Le colis est arriv=E9 ab=EEm=E9.\r\n"

func ExampleParse() {
	m, err := compose.Parse(strings.NewReader(customerMail), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.From[0].Name)
	fmt.Println(m.Subject)
	fmt.Println(m.MessageID)
	fmt.Print(m.Text)
	fmt.Println(m.Auto.Automated(), len(m.Warnings))
	// Output:
	// Françoise Dupré
	// Colis abîmé
	// m1@example.fr
	// Le colis est arrivé abîmé.
	// false 0
}

func ExampleRender() {
	d := &compose.Draft{
		From:      mail.Address{Name: "Acme Support", Address: "support@acme.test"},
		To:        []mail.Address{{Address: "francoise@example.fr"}},
		Subject:   "Votre colis",
		Text:      "Un nouveau colis part aujourd'hui.\n",
		MessageID: "r1@acme.test",
		Date:      time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC),
	}
	raw, err := compose.Render(d, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(strings.ReplaceAll(string(raw), "\r\n", "\n"))

	d.Subject = "x\r\nBcc: victim@example.com"
	_, err = compose.Render(d, nil)
	fmt.Println(err)
	// Output:
	// From: "Acme Support" <support@acme.test>
	// To: <francoise@example.fr>
	// Subject: Votre colis
	// Date: Tue, 24 Nov 2026 10:00:00 +0000
	// Message-ID: <r1@acme.test>
	// MIME-Version: 1.0
	// Content-Type: text/plain; charset=utf-8
	// Content-Transfer-Encoding: quoted-printable
	//
	// Un nouveau colis part aujourd'hui.
	// compose: invalid input: CR or LF in Subject
}

func ExampleReply() {
	orig, err := compose.Parse(strings.NewReader(customerMail), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	d := compose.Reply(orig, &compose.ReplyOptions{
		From:          mail.Address{Name: "Acme Support", Address: "support@acme.test"},
		QuoteLanguage: "fr",
	})
	d.Prepend("Bonjour Françoise,\nnous renvoyons un colis.", "")
	fmt.Println(d.To[0].Address)
	fmt.Println(d.Subject)
	fmt.Println(d.InReplyTo, d.References)
	fmt.Print(d.Text)
	// Output:
	// francoise@example.fr
	// Re: Colis abîmé
	// m1@example.fr [m1@example.fr]
	// Bonjour Françoise,
	// nous renvoyons un colis.
	//
	//
	// Le 23/11/2026 à 09:15, Françoise Dupré <francoise@example.fr> a écrit :
	// > Le colis est arrivé abîmé.
}

func ExampleSplitQuoted() {
	newText, quoted := compose.SplitQuoted("Merci !\n\nLe lun. 23 nov. 2026 à 09:15, Acme <support@acme.test> a écrit :\n> Votre colis part demain.\n")
	fmt.Println(newText)
	fmt.Println(quoted)
	// Output:
	// Merci !
	// Le lun. 23 nov. 2026 à 09:15, Acme <support@acme.test> a écrit :
	// > Votre colis part demain.
}

func ExampleNormalizeSubject() {
	fmt.Println(compose.NormalizeSubject("Re", "RE: AW: Fwd: hello"))
	fmt.Println(compose.NormalizeSubject("Fwd", "Réf. : TR: commande"))
	// Output:
	// Re: hello
	// Fwd: commande
}

func ExampleContentHash() {
	relayed := "Received: from mx2.acme.test by mx1.acme.test; Mon, 23 Nov 2026 09:15:02 +0100\r\n" + customerMail
	edited := strings.Replace(customerMail, "arriv=E9", "perdu", 1)
	fmt.Println(compose.ContentHash([]byte(customerMail)) == compose.ContentHash([]byte(relayed)))
	fmt.Println(compose.ContentHash([]byte(customerMail)) == compose.ContentHash([]byte(edited)))
	// Output:
	// true
	// false
}

func ExampleParseDeliveryStatus() {
	r, err := compose.ParseDeliveryStatus([]byte("Reporting-MTA: dns; mx.shop.example\r\n\r\n" +
		"Final-Recipient: rfc822; jo@example.org\r\nAction: failed\r\nStatus: 5.1.1 (bad mailbox)\r\n" +
		"Diagnostic-Code: smtp; 550 5.1.1 <jo@example.org>: User unknown\r\n"))
	if err != nil {
		panic(err)
	}
	fmt.Println(r.ReportingMTA, r.Failed())
	fmt.Println(r.Recipients[0])
	// Output:
	// mx.shop.example true
	// jo@example.org: failed 5.1.1 (550 5.1.1 <jo@example.org>: User unknown)
}
