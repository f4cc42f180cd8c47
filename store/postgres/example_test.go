package postgres_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/store/postgres"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// exampleSchema is the schema of the Example, of its own for each run.
func exampleSchema() string { return "emailflow_example_" + runID }

// Example runs a Workspace on PostgreSQL. Every instance of the
// application opens the same database and schema; Open creates the tables
// the first time. (The example uses a schema of its own, dropped at the
// end, so that it can run beside other tests.)
func Example() {
	ctx := context.Background()
	schema := exampleSchema()
	store, err := postgres.Open(ctx, dsn(), &postgres.Options{Schema: schema})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	defer store.Pool().Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")

	// The store is also the Directory of contacts.
	ws, err := emailflow.New(emailflow.Ports{Store: store, Sender: &transport.Sender{}}, nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := ws.PutAgent(ctx, emailflow.Agent{ID: "ann", Queues: []string{"default"}}); err != nil {
		log.Fatal(err)
	}
	if err := ws.As("ann").SetStatus(ctx, emailflow.StatusReady); err != nil {
		log.Fatal(err)
	}

	raw := "From: Hélène <helene@exemple.fr>\r\nTo: support@shop.example\r\nSubject: Ma commande\r\nMessage-ID: <c1@exemple.fr>\r\n\r\nBonjour\r\n"
	it, err := ws.Ingest(ctx, "support@shop.example", strings.NewReader(raw))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(it.Subject, "is", it.State, "to", it.OfferedTo)

	it, err = ws.As("ann").Accept(ctx, it.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(it.Subject, "is in", it.State, "by", it.Owner)
	// Output:
	// Ma commande is offered to ann
	// Ma commande is in handling by ann
}
