package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/postgres"
)

// createVersion1 makes schema as the release before versioned migrations
// did: the statements of migration 1, no schema_migrations table.
func createVersion1(t *testing.T, schema string) {
	t.Helper()
	ddl, err := os.ReadFile("migrations/0001_initial.sql")
	require.NoError(t, err)
	_, err = sharedPool(t).Exec(t.Context(), strings.ReplaceAll(string(ddl), "{s}", pgx.Identifier{schema}.Sanitize()))
	require.NoError(t, err)
}

// TestMigrateUpgradesVersion1: a database made and filled by the previous
// schema (attachment bodies in a bytea array, and, for rows older still,
// base64 inside the JSON) is brought to the current version by New; what
// it held reads back the same, bodies are stored once per content, and the
// JSON no longer carries them.
func TestMigrateUpgradesVersion1(t *testing.T) {
	ctx := t.Context()
	schema := freshSchema(t)
	pool := sharedPool(t)
	_, err := pool.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	require.NoError(t, err)
	require.NoError(t, createTestSchema(pool, schema))
	createVersion1(t, schema)
	q := func(sql string) string { return strings.ReplaceAll(sql, "{s}", pgx.Identifier{schema}.Sanitize()) }

	at := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	it, err := interaction.New("it-1", interaction.KindInbound, "system", at)
	require.NoError(t, err)
	it.State, it.Queue, it.QueuedAt, it.Version = interaction.StateQueued, "default", at, 1
	itJSON, err := json.Marshal(it)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, q(`INSERT INTO {s}.interactions (id, kind, state, owner, offered_to, queue,
		workbin, thread_id, contact_id, priority, queued_at, created_at, skills, language, declined,
		preferred, prefer_until, version, data)
		VALUES ($1, 'inbound', 'queued', '', '', 'default', '', $1, '', 0, $2, $2, NULL, '', NULL, '', '0001-01-01Z', 1, $3)`),
		it.ID, at, itJSON)
	require.NoError(t, err)

	logo := []byte("\x89PNG\x00\xff logo")
	pdf := []byte("%PDF-1.7 \x00 offre")
	csv := []byte("a;b\n1;2\n")
	att := func(id string, body []byte) emailflow.Attachment {
		return emailflow.Attachment{ID: id, Filename: id, ContentType: "application/octet-stream", Size: int64(len(body)), Data: body}
	}
	// e1: version 1's layout, bodies in the attachments column.
	e1 := &emailflow.Email{ID: "e1", InteractionID: it.ID, MessageID: "m1@exemple.fr", Subject: "Devis", Attachments: []emailflow.Attachment{att("logo.png", logo), att("offre.pdf", pdf)}}
	// e2: older still, bodies base64 in the JSON; one is e1's logo.
	e2 := &emailflow.Email{ID: "e2", InteractionID: it.ID, MessageID: "m2@exemple.fr", Subject: "Re: Devis", Attachments: []emailflow.Attachment{att("logo.png", logo), att("data.csv", csv)}}
	// e3: no attachments; e4: an attachment without its body here.
	e3 := &emailflow.Email{ID: "e3", InteractionID: it.ID, Subject: "Merci"}
	e4 := &emailflow.Email{ID: "e4", InteractionID: it.ID, Subject: "Gros fichier", Attachments: []emailflow.Attachment{{ID: "big.iso", Filename: "big.iso", Size: 1 << 30}}}
	stripped := func(e *emailflow.Email) ([]byte, [][]byte) {
		c := e.Clone()
		bodies := make([][]byte, len(c.Attachments))
		for i := range c.Attachments {
			bodies[i], c.Attachments[i].Data = c.Attachments[i].Data, nil
		}
		b, err := json.Marshal(c)
		require.NoError(t, err)
		return b, bodies
	}
	d1, b1 := stripped(e1)
	d2, err := json.Marshal(e2)
	require.NoError(t, err)
	d3, b3 := stripped(e3)
	d4, b4 := stripped(e4)
	for _, row := range []struct {
		id     string
		data   []byte
		bodies [][]byte
	}{{"e1", d1, b1}, {"e2", d2, nil}, {"e3", d3, b3}, {"e4", d4, b4}} {
		_, err = pool.Exec(ctx, q(`INSERT INTO {s}.emails (id, interaction_id, data, raw, attachments) VALUES ($1, $2, $3, $4, $5)`),
			row.id, it.ID, row.data, []byte("raw "+row.id), row.bodies)
		require.NoError(t, err)
	}
	_, err = pool.Exec(ctx, q(`INSERT INTO {s}.message_ids VALUES ('m1@exemple.fr', 'e1'), ('m2@exemple.fr', 'e2')`))
	require.NoError(t, err)
	_, err = pool.Exec(ctx, q(`INSERT INTO {s}.events (type, interaction_id, agent, actor, state, at, detail)
		VALUES ('created', 'it-1', '', 'system', 'queued', $1, '')`), at)
	require.NoError(t, err)

	s, err := postgres.New(ctx, pool, &postgres.Options{Schema: schema})
	require.NoError(t, err, "migrating a version 1 database")
	v, err := s.Version(ctx)
	require.NoError(t, err)
	assert.Equal(t, postgres.SchemaVersion(), v)

	err = s.View(ctx, func(tx emailflow.Tx) error {
		got, err := tx.Interaction(ctx, "it-1")
		require.NoError(t, err)
		assert.Equal(t, interaction.StateQueued, got.State)
		items, err := tx.Waiting(ctx, "default", 0, 10)
		require.NoError(t, err)
		require.Len(t, items, 1)
		for _, want := range []*emailflow.Email{e1, e2, e3, e4} {
			e, err := tx.Email(ctx, want.ID)
			require.NoError(t, err)
			require.Len(t, e.Attachments, len(want.Attachments), want.ID)
			for i := range want.Attachments {
				assert.Equal(t, want.Attachments[i].Data, e.Attachments[i].Data, "%s attachment %d", want.ID, i)
			}
			assert.Equal(t, "raw "+want.ID, string(e.Raw))
		}
		byID, err := tx.EmailByMessageID(ctx, "m2@exemple.fr")
		require.NoError(t, err)
		assert.Equal(t, csv, byID.Attachments[1].Data)
		evs, err := tx.Events(ctx, 0, 10)
		require.NoError(t, err)
		require.Len(t, evs, 1)
		assert.Equal(t, "it-1", evs[0].InteractionID)
		return nil
	})
	require.NoError(t, err)

	var blobs, inJSON int
	require.NoError(t, pool.QueryRow(ctx, q(`SELECT count(*) FROM {s}.blobs`)).Scan(&blobs))
	assert.Equal(t, 3, blobs, "logo, pdf and csv, the logo once")
	require.NoError(t, pool.QueryRow(ctx, q(`SELECT count(*) FROM {s}.emails e, jsonb_array_elements(coalesce(nullif(e.data->'Attachments', 'null'), '[]')) a WHERE a->>'Data' IS NOT NULL`)).Scan(&inJSON))
	assert.Zero(t, inJSON, "no body left inside the JSON")

	// The same logo stored again by the new code is not stored twice.
	e5 := &emailflow.Email{ID: "e5", InteractionID: it.ID, Subject: "Logo", Attachments: []emailflow.Attachment{att("logo.png", logo), att("logo2.png", logo)}}
	require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error { return tx.PutEmail(ctx, e5) }))
	require.NoError(t, pool.QueryRow(ctx, q(`SELECT count(*) FROM {s}.blobs`)).Scan(&blobs))
	assert.Equal(t, 3, blobs)

	// Migrating again changes nothing.
	require.NoError(t, s.Migrate(ctx))
	var applied int
	require.NoError(t, pool.QueryRow(ctx, q(`SELECT count(*) FROM {s}.schema_migrations`)).Scan(&applied))
	assert.Equal(t, postgres.SchemaVersion(), applied)
}

// TestMigrateRefusesNewerSchema: a database migrated by a newer release is
// refused with a typed error, and left as it is.
func TestMigrateRefusesNewerSchema(t *testing.T) {
	ctx := t.Context()
	schema := freshSchema(t)
	pool := sharedPool(t)
	_, err := postgres.New(ctx, pool, &postgres.Options{Schema: schema})
	require.NoError(t, err)
	newer := postgres.SchemaVersion() + 1
	_, err = pool.Exec(ctx, "INSERT INTO "+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+" (version, name) VALUES ($1, 'from the future')", newer)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = pool.Exec(context.Background(), "DELETE FROM "+pgx.Identifier{schema, "schema_migrations"}.Sanitize()+" WHERE version = $1", newer)
	})

	_, err = postgres.New(ctx, pool, &postgres.Options{Schema: schema})
	require.ErrorIs(t, err, postgres.ErrSchemaTooNew)
	var sv *postgres.SchemaVersionError
	require.True(t, errors.As(err, &sv))
	assert.Equal(t, newer, sv.Database)
	assert.Equal(t, postgres.SchemaVersion(), sv.Known)
	assert.Contains(t, err.Error(), fmt.Sprintf("version %d", newer))

	// NoMigrate leaves the check to the host: the store opens.
	_, err = postgres.New(ctx, pool, &postgres.Options{Schema: schema, NoMigrate: true})
	require.NoError(t, err)
}

// TestStartUnderLoad: 20 instances start at once, each with a pool of its
// own, while three others take mail in and route it to agents: every
// start succeeds (an up-to-date schema takes no table lock, so nothing
// waits for the traffic or deadlocks with it) and so does every ingest.
func TestStartUnderLoad(t *testing.T) {
	in := instances(t, 3)
	ctx := t.Context()
	for i := range 6 {
		id := fmt.Sprintf("agent%d", i)
		require.NoError(t, in[0].ws.PutAgent(ctx, emailflow.Agent{ID: id, Queues: []string{"default"}, Capacity: 1000}))
		require.NoError(t, in[i%3].ws.As(id).SetStatus(ctx, emailflow.StatusReady))
	}
	schema := in[0].store.Schema()

	stop := make(chan struct{})
	var load sync.WaitGroup
	var loadErr error
	var loadMu sync.Mutex
	var ingested [3]int
	for w := range in {
		load.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				raw := fmt.Sprintf("From: c%d-%d@exemple.fr\r\nTo: support@boutique.example\r\nSubject: s\r\nMessage-ID: <load%d-%d@exemple.fr>\r\n\r\nBonjour\r\n", w, n, w, n)
				if _, err := in[w].ws.Ingest(ctx, "support@boutique.example", strings.NewReader(raw)); err != nil {
					loadMu.Lock()
					loadErr = errors.Join(loadErr, fmt.Errorf("instance %d, mail %d: %w", w, n, err))
					loadMu.Unlock()
					return
				}
				ingested[w]++
			}
		})
	}
	time.Sleep(200 * time.Millisecond) // traffic first

	const starts = 20
	errs := make([]error, starts)
	took := make([]time.Duration, starts)
	var wg sync.WaitGroup
	begin := make(chan struct{})
	for i := range starts {
		wg.Go(func() {
			pool, err := connect(ctx, 2)
			if err != nil {
				errs[i] = err
				return
			}
			defer pool.Close()
			<-begin
			t0 := time.Now()
			_, errs[i] = postgres.New(ctx, pool, &postgres.Options{Schema: schema})
			took[i] = time.Since(t0)
		})
	}
	close(begin)
	wg.Wait()
	time.Sleep(100 * time.Millisecond) // traffic after
	close(stop)
	load.Wait()

	require.NoError(t, loadErr)
	var slowest time.Duration
	for i, err := range errs {
		assert.NoError(t, err, "start %d", i)
		slowest = max(slowest, took[i])
	}
	for w, n := range ingested {
		assert.Positive(t, n, "instance %d took mail in", w)
	}
	t.Logf("%d starts beside %v ingests: slowest start %v", starts, ingested, slowest)
}

// TestStoreOpenedBeforeMigrateWrites: a store opened with NoMigrate before
// its schema exists (the host migrates it later) writes interactions and
// their events once it does: it finds the events' sequence by itself, and
// an interaction's events come in Seq order, as the actions made them.
func TestStoreOpenedBeforeMigrateWrites(t *testing.T) {
	ctx := t.Context()
	schema := freshSchema(t)
	pool := sharedPool(t)
	early, err := postgres.New(ctx, pool, &postgres.Options{Schema: schema, NoMigrate: true})
	require.NoError(t, err)
	_, err = postgres.New(ctx, pool, &postgres.Options{Schema: schema})
	require.NoError(t, err)

	ws, err := emailflow.New(emailflow.Ports{Store: early, Sender: &countSender{}}, benchOptions())
	require.NoError(t, err)
	require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "ann", Queues: []string{"support-fr"}, Capacity: 2}))
	require.NoError(t, ws.As("ann").SetStatus(ctx, emailflow.StatusReady))
	it, err := ws.Ingest(ctx, "support@boutique.example", strings.NewReader(mailN(1)))
	require.NoError(t, err)
	require.Equal(t, "ann", it.OfferedTo)
	_, err = ws.As("ann").Accept(ctx, it.ID)
	require.NoError(t, err)

	var types []string
	var last int64
	err = early.View(ctx, func(tx emailflow.Tx) error {
		evs, err := tx.Events(ctx, 0, 0)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if e.InteractionID != it.ID {
				continue
			}
			assert.Greater(t, e.Seq, last, "events of %s out of Seq order", it.ID)
			last = e.Seq
			types = append(types, string(e.Type))
		}
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"ingested", "queued", "offered", "accepted"}, types)
}

// version7 returns a schema brought to version 7 (the release before
// migration 8 narrowed the index of interactions by state), filled with
// the rows of a desk's work: the tables of a schema a Workspace wrote
// through, copied over. It returns the schema and, read through that
// Workspace, what the data must read back as.
func version7(t *testing.T) (string, deskSnapshot) {
	t.Helper()
	ctx := t.Context()
	pool := sharedPool(t)
	schema := freshSchema(t)
	_, err := pool.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	require.NoError(t, err)
	require.NoError(t, createTestSchema(pool, schema))
	old, err := postgres.New(ctx, pool, &postgres.Options{Schema: schema, NoMigrate: true})
	require.NoError(t, err)
	require.NoError(t, old.MigrateTo(ctx, 7))
	v, err := old.Version(ctx)
	require.NoError(t, err)
	require.Equal(t, 7, v)

	src := freshStore(t)
	ws, err := emailflow.New(emailflow.Ports{Store: src, Sender: &countSender{}}, benchOptions())
	require.NoError(t, err)
	require.NoError(t, ws.PutAgent(ctx, emailflow.Agent{ID: "ann", Queues: []string{"support-fr"}, Capacity: 10}))
	ann := ws.As("ann")
	require.NoError(t, ann.SetStatus(ctx, emailflow.StatusReady))
	var its []*interaction.Interaction
	for i := range 6 {
		it := ingest(t, ws, i)
		require.Equal(t, "ann", it.OfferedTo, "mail %d", i)
		its = append(its, it)
	}
	for _, it := range its[:4] {
		_, err := ann.Accept(ctx, it.ID)
		require.NoError(t, err)
	}
	r, err := ann.Reply(ctx, its[0].ID)
	require.NoError(t, err)
	_, err = ann.Send(ctx, r.ID, nil) // its[0] is done (CompleteOnReply)
	require.NoError(t, err)
	require.NoError(t, ann.AddNote(ctx, its[1].ID, "rappeler demain"))
	require.NoError(t, ann.MarkDone(ctx, its[1].ID))
	_, err = src.FeedHead(ctx) // every event numbered, as on a running desk
	require.NoError(t, err)
	want := snapshot(t, ws)
	require.Len(t, want.interactions, 7, "six inbound and a reply")
	require.NotEmpty(t, want.events)
	for _, it := range its {
		require.NotEmpty(t, want.emails[it.ID], it.ID)
	}

	// Migrations 8 and 9 add no column: the tables have the same columns
	// in the same order at version 7.
	// Generated columns are computed again.
	b := &pgx.Batch{}
	for _, table := range strings.Split(tables, ", ") {
		var cols string
		require.NoError(t, pool.QueryRow(ctx, `SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)
			FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND is_generated = 'NEVER'`,
			schema, table).Scan(&cols))
		b.Queue(fmt.Sprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s",
			pgx.Identifier{schema, table}.Sanitize(), cols, cols, pgx.Identifier{src.Schema(), table}.Sanitize()))
	}
	for _, c := range [][2]string{{"events", "seq"}, {"emails", "ord"}} {
		b.Queue(fmt.Sprintf("SELECT setval(pg_get_serial_sequence($1, $2), (SELECT coalesce(max(%s), 0) + 1 FROM %s), false)",
			c[1], pgx.Identifier{schema, c[0]}.Sanitize()), schema+"."+c[0], c[1])
	}
	require.NoError(t, pool.SendBatch(ctx, b).Close())
	return schema, want
}

// deskSnapshot is what the Workspace of version7 reads: every interaction
// with its emails, the lists by state and by owner, and the events.
type deskSnapshot struct {
	interactions map[string]*interaction.Interaction
	emails       map[string][]*emailflow.Email
	byState      map[interaction.State][]string
	owned        []string
	events       []emailflow.Event
}

// snapshot reads through ws, as agent ann, everything the schema of
// version7 holds.
func snapshot(t *testing.T, ws *emailflow.Workspace) deskSnapshot {
	t.Helper()
	ctx := t.Context()
	ann := ws.As("ann")
	ids := func(its []*interaction.Interaction) []string {
		out := make([]string, len(its))
		for i, it := range its {
			out[i] = it.ID
		}
		return out
	}
	all, err := ann.Interactions(ctx, emailflow.Query{})
	require.NoError(t, err)
	snap := deskSnapshot{interactions: map[string]*interaction.Interaction{}, emails: map[string][]*emailflow.Email{}, byState: map[interaction.State][]string{}}
	for _, it := range all {
		got, err := ann.Interaction(ctx, it.ID)
		require.NoError(t, err)
		snap.interactions[it.ID] = got
		snap.emails[it.ID], err = ann.Emails(ctx, it.ID)
		require.NoError(t, err)
		if _, ok := snap.byState[it.State]; !ok {
			list, err := ann.Interactions(ctx, emailflow.Query{States: []interaction.State{it.State}})
			require.NoError(t, err)
			snap.byState[it.State] = ids(list)
		}
	}
	owned, err := ann.Interactions(ctx, emailflow.Query{Owner: "ann"})
	require.NoError(t, err)
	snap.owned = ids(owned)
	snap.events, err = ann.Events(ctx, 0, 0)
	require.NoError(t, err)
	return snap
}

// blocker opens a transaction on a connection of its own that reads
// interactions, as a long report on another instance would, and holds
// its lock until release is closed; then it commits and sends the
// commit's error on done.
func blocker(t *testing.T, schema string) (release chan struct{}, done chan error) {
	t.Helper()
	ctx := t.Context()
	pool, err := connect(ctx, 1)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	var n int
	require.NoError(t, tx.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{schema, "interactions"}.Sanitize()).Scan(&n))
	require.Positive(t, n)
	release, done = make(chan struct{}), make(chan error, 1)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		<-release
		done <- tx.Commit(context.Background())
	}()
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
		<-ended
	})
	return release, done
}

// waitQueued waits until a migration attempt number at least attempt of
// s waits for the ACCESS EXCLUSIVE lock of the interactions of schema.
func waitQueued(t *testing.T, s *postgres.Store, schema string, attempt int64) {
	t.Helper()
	ctx := t.Context()
	for {
		var queued bool
		require.NoError(t, sharedPool(t).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks
			WHERE relation = to_regclass($1) AND mode = 'AccessExclusiveLock' AND NOT granted)`,
			schema+".interactions").Scan(&queued))
		if queued && s.MigrateAttempts() >= attempt {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no migration attempt %d queued for the lock of interactions", attempt)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestMigrateUpgradesVersion7: a desk's data at version 7 is brought to
// the newest version; the Workspace on the upgraded store reads and lists
// every interaction, email and event as before, through the new index of
// open interactions, and goes on working.
func TestMigrateUpgradesVersion7(t *testing.T) {
	ctx := t.Context()
	schema, want := version7(t)

	s, err := postgres.New(ctx, sharedPool(t), &postgres.Options{Schema: schema})
	require.NoError(t, err)
	v, err := s.Version(ctx)
	require.NoError(t, err)
	assert.Equal(t, postgres.SchemaVersion(), v)
	var open, byState bool
	require.NoError(t, sharedPool(t).QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL, to_regclass($2) IS NOT NULL",
		schema+".interactions_open", schema+".interactions_state").Scan(&open, &byState))
	assert.True(t, open, "migration 8 built interactions_open")
	assert.False(t, byState, "migration 8 dropped interactions_state")

	ws, err := emailflow.New(emailflow.Ports{Store: s, Sender: &countSender{}}, benchOptions())
	require.NoError(t, err)
	got := snapshot(t, ws)
	assert.Equal(t, want.interactions, got.interactions)
	assert.Equal(t, want.emails, got.emails)
	assert.Equal(t, want.byState, got.byState)
	assert.Equal(t, want.owned, got.owned)
	assert.Equal(t, want.events, got.events)
	assert.Len(t, got.byState[interaction.StateHandling], 2)
	assert.Len(t, got.byState[interaction.StateOffered], 2)

	// The upgraded desk takes mail in, after the rows it kept.
	it := ingest(t, ws, 100)
	assert.Equal(t, "ann", it.OfferedTo)
	evs, err := ws.As("ann").Events(ctx, 0, 0)
	require.NoError(t, err)
	require.Greater(t, len(evs), len(want.events))
	assert.Greater(t, evs[len(evs)-1].Seq, want.events[len(want.events)-1].Seq)
}

// unmigrated opens a store on schema, on a pool of its own, without
// migrating it.
func unmigrated(t *testing.T, schema string) *postgres.Store {
	t.Helper()
	pool, err := connect(t.Context(), 2)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	s, err := postgres.New(t.Context(), pool, &postgres.Options{Schema: schema, NoMigrate: true})
	require.NoError(t, err)
	return s
}

// TestMigrateUnderBlocker: while a transaction on another connection
// keeps a lock on interactions, the migration's attempt to drop their
// index waits a bounded time, then gives way: a read of an interaction by
// primary key from a third connection, queued behind the attempt, gets
// through while the blocker is still open. The migration tries again and
// finishes once the blocker has committed.
func TestMigrateUnderBlocker(t *testing.T) {
	ctx := t.Context()
	schema, want := version7(t)
	release, blockerDone := blocker(t, schema)

	s := unmigrated(t, schema)
	migrated := make(chan error, 1)
	go func() { migrated <- s.Migrate(ctx) }()
	waitQueued(t, s, schema, 1)

	// A read behind the queued DROP INDEX: it waits for the attempt, not
	// for the blocker.
	reader := sharedPool(t) // a connection of its own
	var id string
	for id = range want.interactions {
		break
	}
	read := make(chan error, 1)
	t0 := time.Now()
	go func() {
		var state string
		read <- reader.QueryRow(ctx, "SELECT state FROM "+pgx.Identifier{schema, "interactions"}.Sanitize()+" WHERE id = $1", id).Scan(&state)
	}()
	select {
	case err := <-read:
		require.NoError(t, err, "the read by primary key")
		t.Logf("the read by primary key waited %v behind the attempt", time.Since(t0))
	case err := <-migrated:
		t.Fatalf("Migrate returned (%v) while the blocker is open", err)
	case <-blockerDone:
		t.Fatal("the blocker ended first")
	}

	// The next attempt waits behind the blocker too; then it commits.
	waitQueued(t, s, schema, 2)
	select {
	case err := <-migrated:
		t.Fatalf("Migrate returned (%v) while the blocker is open", err)
	default:
	}
	close(release)
	require.NoError(t, <-blockerDone)
	require.NoError(t, <-migrated)
	v, err := s.Version(ctx)
	require.NoError(t, err)
	assert.Equal(t, postgres.SchemaVersion(), v)
	assert.GreaterOrEqual(t, s.MigrateAttempts(), int64(3), "migration 8 at least twice, then 9")
	var applied int
	require.NoError(t, s.Pool().QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{schema, "schema_migrations"}.Sanitize()).Scan(&applied))
	assert.Equal(t, postgres.SchemaVersion(), applied, "each migration recorded once")
}

// TestMigrateCancelledUnderBlocker: when ctx ends while the migration is
// still kept from its locks, Migrate says so (ErrMigrationLocked and the
// context's error) and the schema stays at version 7, whole and usable;
// a later Migrate, with the way clear, finishes.
func TestMigrateCancelledUnderBlocker(t *testing.T) {
	ctx := t.Context()
	schema, want := version7(t)
	release, blockerDone := blocker(t, schema)

	s := unmigrated(t, schema)
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	migrated := make(chan error, 1)
	go func() { migrated <- s.Migrate(mctx) }()
	waitQueued(t, s, schema, 2) // the first attempt timed out
	cancel()
	err := <-migrated
	require.Error(t, err)
	assert.ErrorIs(t, err, postgres.ErrMigrationLocked)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "version 7")

	v, err := s.Version(ctx)
	require.NoError(t, err)
	assert.Equal(t, 7, v)
	var byState bool
	require.NoError(t, s.Pool().QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", schema+".interactions_state").Scan(&byState))
	assert.True(t, byState, "the attempt of migration 8 rolled back")

	// Version 7 still serves reads and lists, blocker or not.
	ws, err := emailflow.New(emailflow.Ports{Store: s, Sender: &countSender{}}, benchOptions())
	require.NoError(t, err)
	got := snapshot(t, ws)
	assert.Equal(t, want.interactions, got.interactions)
	assert.Equal(t, want.byState, got.byState)

	close(release)
	require.NoError(t, <-blockerDone)
	require.NoError(t, s.Migrate(ctx))
	v, err = s.Version(ctx)
	require.NoError(t, err)
	assert.Equal(t, postgres.SchemaVersion(), v)
}

// TestMigrateDoesNotRetryOtherErrors: a migration that fails for another
// reason than a lock timeout is not tried again: Migrate returns its
// error after one attempt, the migrations before it kept.
func TestMigrateDoesNotRetryOtherErrors(t *testing.T) {
	ctx := t.Context()
	schema, _ := version7(t)
	pool := sharedPool(t)
	// Migration 9 creates this function: it exists already.
	_, err := pool.Exec(ctx, "CREATE FUNCTION "+pgx.Identifier{schema, "sequence_events"}.Sanitize()+
		"(lock_key bigint, channel text, wait boolean) RETURNS integer LANGUAGE sql AS 'SELECT 0'")
	require.NoError(t, err)

	s, err := postgres.New(ctx, pool, &postgres.Options{Schema: schema, NoMigrate: true})
	require.NoError(t, err)
	err = s.Migrate(ctx)
	require.Error(t, err)
	assert.NotErrorIs(t, err, postgres.ErrMigrationLocked)
	assert.Contains(t, err.Error(), "0009_feed_sequencer")
	assert.Contains(t, err.Error(), "42723", "duplicate function")
	assert.Equal(t, int64(2), s.MigrateAttempts(), "8 once, 9 once")
	v, err := s.Version(ctx)
	require.NoError(t, err)
	assert.Equal(t, 8, v)

	// With the obstacle gone, migrating again finishes (and leaves the
	// schema whole for the next test that reuses it).
	_, err = pool.Exec(ctx, "DROP FUNCTION "+pgx.Identifier{schema, "sequence_events"}.Sanitize()+"(bigint, text, boolean)")
	require.NoError(t, err)
	require.NoError(t, s.Migrate(ctx))
	v, err = s.Version(ctx)
	require.NoError(t, err)
	assert.Equal(t, postgres.SchemaVersion(), v)
}

// TestMigrateAfterADeadlock: migration 12 locks several tables one after
// another; a live transaction that wrote emails and then reads
// interactions, which the migration holds already, closes a cycle. The
// server ends one of the two: the live one fails as any deadlock does (the
// Workspace retries such a conflict), or the migration's attempt rolls
// back and is tried again once the live one has ended. Either way the
// schema reaches the newest version, each migration recorded once.
func TestMigrateAfterADeadlock(t *testing.T) {
	ctx := t.Context()
	schema := freshSchema(t)
	// A schema of version 11: the test schemas are reused, migrated.
	_, err := sharedPool(t).Exec(ctx, "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	require.NoError(t, err)
	require.NoError(t, createTestSchema(sharedPool(t), schema))
	s := unmigrated(t, schema)
	require.NoError(t, s.MigrateTo(ctx, 11))

	pool, err := connect(ctx, 1)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	live, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = live.Rollback(context.Background()) }()
	_, err = live.Exec(ctx, "LOCK TABLE "+pgx.Identifier{schema, "emails"}.Sanitize()+" IN ROW EXCLUSIVE MODE")
	require.NoError(t, err)

	migrated := make(chan error, 1)
	go func() { migrated <- s.Migrate(ctx) }()
	// The migration holds interactions and waits for emails.
	for {
		var waiting bool
		require.NoError(t, sharedPool(t).QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks
			WHERE relation = to_regclass($1) AND mode = 'AccessExclusiveLock' AND NOT granted)`,
			schema+".emails").Scan(&waiting))
		if waiting {
			break
		}
		select {
		case err := <-migrated:
			t.Fatalf("Migrate returned (%v) while emails were locked", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	var n int
	readErr := live.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{schema, "interactions"}.Sanitize()).Scan(&n)
	if readErr != nil {
		var pg *pgconn.PgError
		require.ErrorAs(t, readErr, &pg)
		assert.Equal(t, "40P01", pg.Code, "the live transaction ends only to break a deadlock")
		require.NoError(t, live.Rollback(ctx))
	} else {
		require.NoError(t, live.Commit(ctx))
		assert.GreaterOrEqual(t, s.MigrateAttempts(), int64(2), "the migration's attempt was ended and tried again")
	}
	require.NoError(t, <-migrated)
	v, err := s.Version(ctx)
	require.NoError(t, err)
	assert.Equal(t, postgres.SchemaVersion(), v)
	var applied int
	require.NoError(t, s.Pool().QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{schema, "schema_migrations"}.Sanitize()).Scan(&applied))
	assert.Equal(t, postgres.SchemaVersion(), applied, "each migration recorded once")
}
