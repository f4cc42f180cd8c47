package postgres_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/postgres"
)

// The crash test runs a child process (this test binary, told so by its
// environment) that takes mail in and answers it, and kills it with
// SIGKILL at random moments, as a machine or an OOM killer would. What the
// child confirmed must survive whole and once; what it sent may be sent
// again, at least once, always with the same Message-ID and bytes.

// Environment of the child process.
const (
	crashSchemaEnv     = "EMAILFLOW_CRASH_SCHEMA"     // the schema it works in: set in a child only
	crashDeliveriesEnv = "EMAILFLOW_CRASH_DELIVERIES" // the file its Sender appends deliveries to
	crashStartEnv      = "EMAILFLOW_CRASH_START"      // the number of the first message it takes in
)

// crashLease is the child's delivery lease: short, so that what a killed
// child left leased is sent again within the test.
const crashLease = 600 * time.Millisecond

// crashMail is message i of the test, always the same bytes.
func crashMail(i int) string {
	return fmt.Sprintf("From: Client %d <client%d@exemple.fr>\r\nTo: support@boutique.example\r\nSubject: commande %d\r\n"+
		"Message-ID: <crash-%d@exemple.fr>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBonjour, où est la commande %d ?\r\n", i, i, i, i, i)
}

// fileSender appends a line per delivery to a file: the Message-ID and
// the SHA-256 of the bytes. Each line is one write, so a process killed
// at any moment leaves whole lines.
type fileSender struct {
	mu sync.Mutex
	f  *os.File
}

func (s *fileSender) Send(_ context.Context, _ string, _ []string, msg []byte) error {
	time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond) // the transfer
	mid := "?"
	if i := bytes.Index(msg, []byte("\r\nMessage-ID: <")); i >= 0 {
		rest := msg[i+len("\r\nMessage-ID: <"):]
		mid = string(rest[:bytes.IndexByte(rest, '>')])
	}
	sum := sha256.Sum256(msg)
	s.mu.Lock()
	_, err := s.f.WriteString(mid + " " + hex.EncodeToString(sum[:]) + "\n") // the receiver's 250
	s.mu.Unlock()
	time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond) // QUIT
	return err
}

// crashWorkspace is a Workspace as the child and the final drain run it.
func crashWorkspace(s *postgres.Store, sender emailflow.Sender) (*emailflow.Workspace, error) {
	return emailflow.New(emailflow.Ports{Store: s, Sender: sender}, &emailflow.Options{
		CompleteOnReply: true, DeliveryLease: crashLease, RetryBackoff: 50 * time.Millisecond, MaxAttempts: 1000,
	})
}

// crashChild is the child process: it takes messages in from number
// EMAILFLOW_CRASH_START on, answers each and sends the answer, and prints
// "in N" once Ingest returned for message N and "sent ID" once Send
// returned for outbound ID, until it is killed.
func crashChild() int {
	ctx := context.Background()
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		return 2
	}
	s, err := postgres.Open(ctx, dsn(), &postgres.Options{Schema: os.Getenv(crashSchemaEnv), NoMigrate: true})
	if err != nil {
		return fail(err)
	}
	f, err := os.OpenFile(os.Getenv(crashDeliveriesEnv), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return fail(err)
	}
	ws, err := crashWorkspace(s, &fileSender{f: f})
	if err != nil {
		return fail(err)
	}
	start, err := strconv.Atoi(os.Getenv(crashStartEnv))
	if err != nil {
		return fail(err)
	}
	out := bufio.NewWriter(os.Stdout)
	say := func(format string, args ...any) {
		fmt.Fprintf(out, format+"\n", args...)
		_ = out.Flush()
	}
	say("ready")
	for i := start; ; i++ {
		// What a killed predecessor left leased is due again by now.
		if _, err := ws.Runner(nil).Dispatch(ctx); err != nil {
			return fail(err)
		}
		say("try %d", i)
		it, err := ws.Ingest(ctx, "support@boutique.example", strings.NewReader(crashMail(i)))
		if err != nil {
			return fail(err)
		}
		say("in %d", i)
		if it.State == interaction.StateOffered && it.OfferedTo == "ann" {
			if it, err = ws.As("ann").Accept(ctx, it.ID); err != nil {
				return fail(err)
			}
		}
		if it.State != interaction.StateHandling {
			continue // answered before this process started
		}
		r, err := ws.As("ann").Reply(ctx, it.ID)
		if err != nil {
			return fail(err)
		}
		if _, err := ws.As("ann").Send(ctx, r.ID, nil); err != nil {
			return fail(err)
		}
		say("sent %s", r.ID)
	}
}

// crashRun is what the parent saw of one child's life.
type crashRun struct {
	tried, in []int
	sent      []string
}

// runChild starts a child from message start and kills it a random moment
// after it is ready.
func runChild(t *testing.T, schema, deliveries string, start int) crashRun {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashSchemaEnv+"="+schema, crashDeliveriesEnv+"="+deliveries, crashStartEnv+"="+strconv.Itoa(start))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var run crashRun
	ready := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			word, arg, _ := strings.Cut(sc.Text(), " ")
			n, _ := strconv.Atoi(arg)
			switch word {
			case "ready":
				close(ready)
			case "try":
				run.tried = append(run.tried, n)
			case "in":
				run.in = append(run.in, n)
			case "sent":
				run.sent = append(run.sent, arg)
			}
		}
	}()
	select {
	case <-ready:
	case <-done:
		_ = cmd.Wait()
		t.Fatalf("the child ended before it was ready: %s", stderr.String())
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("the child did not start")
	}
	time.Sleep(time.Duration(50+rand.IntN(800)) * time.Millisecond)
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	<-done
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
		t.Fatalf("the child ended on its own (%v) rather than killed: %s", err, stderr.String())
	}
	return run
}

func TestCrashIngestAndDispatch(t *testing.T) {
	kills := 12
	schema := freshSchema(t)
	ctx := t.Context()
	s, err := postgres.New(ctx, sharedPool(t), &postgres.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	deliveries := filepath.Join(t.TempDir(), "deliveries")
	f, err := os.OpenFile(deliveries, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ws, err := crashWorkspace(s, &fileSender{f: f})
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.PutAgent(ctx, emailflow.Agent{ID: "ann", Queues: []string{"default"}, Capacity: 1_000_000}); err != nil {
		t.Fatal(err)
	}
	if err := ws.As("ann").SetStatus(ctx, emailflow.StatusReady); err != nil {
		t.Fatal(err)
	}
	// The checks below read as the host's administrator, who sees all.
	if err := ws.PutAgent(ctx, emailflow.Agent{ID: "admin", Roles: []emailflow.Role{emailflow.RoleAdmin}}); err != nil {
		t.Fatal(err)
	}

	confirmed := map[int]bool{}
	sent := map[string]bool{}
	next, maxTried := 0, -1
	for range kills {
		run := runChild(t, schema, deliveries, next)
		for _, n := range run.tried {
			maxTried = max(maxTried, n)
		}
		for _, n := range run.in {
			confirmed[n] = true
		}
		for _, id := range run.sent {
			sent[id] = true
		}
		// The next life starts a little before where this one stopped, as
		// a sender retries what it got no answer for: some of it was taken
		// in, some answered.
		next = max(0, maxTried-2)
	}

	// Drain what the last child left: its leases run out, and the
	// outbox is delivered from here.
	deadline := time.Now().Add(time.Minute)
	for {
		if _, err := ws.Runner(nil).Dispatch(ctx); err != nil {
			t.Fatal(err)
		}
		pending := 0
		if err := s.View(ctx, func(tx emailflow.Tx) error {
			due, err := tx.DueOutbox(ctx, time.Now().Add(time.Hour), 0)
			pending = len(due)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d outbox items still pending", pending)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Every confirmed message is findable once, whole; none twice.
	its, err := ws.As("admin").Interactions(ctx, emailflow.Query{})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}      // raw bytes of inbound emails → how many
	outbound := map[string]string{} // Message-ID → outbound interaction
	for _, it := range its {
		emails, err := ws.As("admin").Emails(ctx, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range emails {
			if e.Direction == emailflow.Inbound {
				stored[string(e.Raw)]++
				continue
			}
			outbound[e.MessageID] = it.ID
			if sent[it.ID] && it.State != interaction.StateSent {
				t.Errorf("outbound %s was confirmed sent but is %s", it.ID, it.State)
			}
		}
	}
	if len(confirmed) == 0 || len(sent) == 0 {
		t.Fatalf("the children confirmed %d messages and %d replies: nothing to check", len(confirmed), len(sent))
	}
	for i := 0; i <= maxTried; i++ {
		n := stored[crashMail(i)]
		switch {
		case confirmed[i] && n != 1:
			t.Errorf("message %d was confirmed and is stored %d times (whole)", i, n)
		case n > 1:
			t.Errorf("message %d is stored %d times", i, n)
		}
	}

	// Every delivery is of a stored outbound email; copies of one carry
	// its Message-ID and the same bytes.
	data, err := os.ReadFile(deliveries)
	if err != nil {
		t.Fatal(err)
	}
	sums := map[string]string{}
	count := map[string]int{}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for _, line := range lines {
		mid, sum, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("delivery line %q", line)
		}
		if _, ok := outbound[mid]; !ok {
			t.Errorf("a delivery with Message-ID %q, which no outbound email has", mid)
		}
		if old, ok := sums[mid]; ok && old != sum {
			t.Errorf("deliveries of %s differ in their bytes", mid)
		}
		sums[mid] = sum
		count[mid]++
	}
	for id := range sent {
		found := false
		for mid, it := range outbound {
			found = found || (it == id && count[mid] > 0)
		}
		if !found {
			t.Errorf("outbound %s was confirmed sent and never delivered", id)
		}
	}
	duplicates := len(lines) - len(count)
	t.Logf("%d kills; %d messages tried, %d confirmed; %d replies confirmed; %d deliveries of %d emails: %d duplicates, each with its email's Message-ID and bytes",
		kills, maxTried+1, len(confirmed), len(sent), len(lines), len(count), duplicates)
}
