package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/contact"
	"github.com/emailflow/emailflow/qa"
	"github.com/emailflow/emailflow/store/memory"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// The demo centre: one mailbox and its queue, two agents (Camille, a new
// hire whose mail is reviewed, and Lucas), a reviewer (Rita) and a
// supervisor (Sophie), standard responses, and customer mail waiting.
const (
	mailbox     = "support@boutique.example"
	queue       = "support-fr"
	reviewQueue = emailflow.DefaultReviewQueue
)

// demoAgents are the people of the login screen, in its order.
var demoAgents = []emailflow.Agent{
	{ID: "camille", Name: "Camille Laurent", Address: "camille@boutique.example", Queues: []string{queue}, Groups: []string{"new-hires"}, Capacity: 3},
	{ID: "lucas", Name: "Lucas Martin", Address: "lucas@boutique.example", Queues: []string{queue}, Capacity: 3},
	{ID: "rita", Name: "Rita Moreau", Address: "rita@boutique.example", Queues: []string{reviewQueue}, Roles: []emailflow.Role{emailflow.RoleReviewer}, Capacity: 5},
	{ID: "sophie", Name: "Sophie Bernard", Address: "sophie@boutique.example", Queues: []string{queue}, Roles: []emailflow.Role{emailflow.RoleSupervisor}, Capacity: 3},
}

// dispositions are the centre's disposition codes.
var dispositions = []string{"résolu", "escaladé", "sans suite"}

// demo is a running demo centre.
type demo struct {
	ws     *emailflow.Workspace
	sender *transport.Sender
	dialer *dialer
}

// dialer is the demo's telephony: it records the calls it is asked for.
type dialer struct {
	mu    sync.Mutex
	calls []string
}

// Dial records the call and returns its id.
func (d *dialer) Dial(_ context.Context, agent, number, interactionID string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, agent+" → "+number)
	return fmt.Sprintf("appel-%d", len(d.calls)), nil
}

// Calls returns the calls placed so far.
func (d *dialer) Calls() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.calls...)
}

// newDemo builds the demo centre on the embedded default (memory store,
// in-memory Sender) with mail waiting: Hélène's offered to Camille,
// Marc's to Lucas.
func newDemo(ctx context.Context) (*demo, error) {
	responses := &compose.Library{}
	for _, t := range []compose.Template{
		{ID: "retard", Name: "Retard de livraison", Category: "Livraison",
			Text: "Bonjour {{contact.firstName}},\n\nVotre commande {{case.Commande}} a pris du retard chez le transporteur ; elle vous sera livrée sous 48 heures.\n\nBien cordialement,\n{{agent.name}}, Service Client"},
		{ID: "remboursement", Name: "Remboursement accordé", Category: "Facturation",
			Text: "Bonjour {{contact.firstName}},\n\nNous vous remboursons le montant payé en double ; il apparaîtra sur votre relevé sous 5 jours ouvrés.\n\n{{agent.name}}, Service Client"},
	} {
		if err := responses.Add(t); err != nil {
			return nil, err
		}
	}
	d := &demo{sender: &transport.Sender{}, dialer: &dialer{}}
	ws, err := emailflow.New(emailflow.Ports{Store: memory.New(nil), Sender: d.sender, Dialer: d.dialer}, &emailflow.Options{
		Hostname:            "desk.boutique.example",
		Mailboxes:           []emailflow.Mailbox{{Address: mailbox, Name: "Service Client", Queue: queue}},
		Dispositions:        dispositions,
		DispositionRequired: true,
		QuoteLanguage:       "fr",
		AcceptTimeout:       10 * time.Minute,
		CaseData: []emailflow.CaseField{
			{Key: "Commande"},
			{Key: "Canal", Value: "email", ReadOnly: true},
		},
		Responses:    responses,
		ReviewPolicy: qa.First(qa.Exempt("supervisor"), qa.Any(qa.ByGroup("new-hires"), qa.OnRequest())),
	})
	if err != nil {
		return nil, err
	}
	d.ws = ws
	for _, a := range demoAgents {
		if err := ws.PutAgent(ctx, a); err != nil {
			return nil, err
		}
	}
	for _, c := range []contact.Contact{
		{ID: "helene", FirstName: "Hélène", LastName: "Dupré", Emails: []string{"helene.dupre@exemple.fr"}, Phones: []string{"+33 6 12 34 56 78"}, Language: "fr"},
		{ID: "marc", FirstName: "Marc", LastName: "Petit", Emails: []string{"marc.petit@exemple.fr"}, Language: "fr"},
	} {
		if _, err := ws.PutContact(ctx, c); err != nil {
			return nil, err
		}
	}
	// One agent ready at a time, so that each mail goes to its agent.
	for _, step := range []struct {
		agent string
		mail  string
	}{{"camille", heleneMail}, {"lucas", marcMail}} {
		if err := ws.As(step.agent).SetStatus(ctx, emailflow.StatusReady); err != nil {
			return nil, err
		}
		if _, err := d.ingest(ctx, step.mail); err != nil {
			return nil, err
		}
		if err := ws.As(step.agent).SetStatus(ctx, emailflow.StatusNotReady); err != nil {
			return nil, err
		}
	}
	for _, id := range []string{"camille", "lucas"} {
		if err := ws.As(id).SetStatus(ctx, emailflow.StatusReady); err != nil {
			return nil, err
		}
	}
	// Mail from a known lottery sender waits in quarantine for Sophie.
	if _, err := ws.As("sophie").PutSenderRule(ctx, emailflow.SenderRule{Pattern: "gains-faciles.example", Action: emailflow.ListQuarantine}); err != nil {
		return nil, err
	}
	if _, err := d.ingest(ctx, lotteryMail); err != nil {
		return nil, err
	}
	// Sophie supervises: she is not ready, so mail is not offered to her.
	if err := ws.As("rita").SetStatus(ctx, emailflow.StatusReady); err != nil {
		return nil, err
	}
	return d, nil
}

// ingest takes a raw message (LF line ends) into the demo mailbox.
func (d *demo) ingest(ctx context.Context, raw string) (string, error) {
	it, err := d.ws.Ingest(ctx, mailbox, strings.NewReader(strings.ReplaceAll(raw, "\n", "\r\n")))
	if err != nil {
		return "", err
	}
	return it.ID, nil
}

// heleneMail is HTML mail carrying what must never run in the desk: a
// script, an event handler and a javascript: link.
const heleneMail = `From: =?utf-8?q?H=C3=A9l=C3=A8ne_Dupr=C3=A9?= <helene.dupre@exemple.fr>
To: Service Client <support@boutique.example>
Subject: =?utf-8?q?Commande_FR-2291_=3A_colis_non_re=C3=A7u?=
Date: Mon, 30 Nov 2026 08:42:07 +0100
Message-ID: <CAF3x9-helene-2291@mail.exemple.fr>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="b1"

--b1
Content-Type: text/plain; charset=utf-8

Bonjour,

J'ai commandé une bouilloire le 12 novembre et je n'ai toujours rien reçu.

Hélène
--b1
Content-Type: text/html; charset=utf-8

<html><body>
<p>Bonjour,</p>
<p>J'ai commandé une <b>bouilloire</b> le 12 novembre et je n'ai toujours rien reçu.</p>
<script>new Image().src = "/beacon?via=script";</script>
<img src="x" onerror="new Image().src = '/beacon?via=onerror'" alt="photo du colis">
<p><a id="suivi" href="javascript:new Image().src='/beacon?via=link'">Voir le suivi</a></p>
<p>Hélène</p>
</body></html>
--b1--
`

const marcMail = `From: Marc Petit <marc.petit@exemple.fr>
To: Service Client <support@boutique.example>
Subject: Facture en double
Date: Mon, 30 Nov 2026 09:10:00 +0100
Message-ID: <marc-facture-77@exemple.fr>
Content-Type: text/plain; charset=utf-8

Bonjour,

J'ai été débité deux fois pour la commande FR-3310. Pouvez-vous me rembourser ?

Marc Petit
`

// lotteryMail comes from a sender the demo's list quarantines.
const lotteryMail = `From: Grand Jeu <gagnant@gains-faciles.example>
To: Service Client <support@boutique.example>
Subject: Vous avez gagné un iPhone !
Date: Mon, 30 Nov 2026 07:30:00 +0100
Message-ID: <jeu-5512@gains-faciles.example>
Content-Type: text/plain; charset=utf-8

Cliquez vite pour réclamer votre lot.
`

// followUpMail is mail a test (or a curious evaluator) takes in while the
// desk runs, to watch an offer arrive live.
const followUpMail = `From: Marc Petit <marc.petit@exemple.fr>
To: Service Client <support@boutique.example>
Subject: Changement d'adresse de livraison
Date: Mon, 30 Nov 2026 10:02:00 +0100
Message-ID: <marc-adresse-78@exemple.fr>
Content-Type: text/plain; charset=utf-8

Bonjour, je déménage : pouvez-vous livrer ma prochaine commande au 4 rue des Lilas ?

Marc
`
