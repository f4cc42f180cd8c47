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
