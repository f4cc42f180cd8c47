package label_test

import (
	"fmt"

	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/label"
	"github.com/emailflow/emailflow/qa"
)

func Example() {
	fr := label.Default()
	fmt.Println(fr.State(interaction.StateRejected))
	fmt.Println(fr.Decision(qa.Approved))
	fmt.Println(fr.Event("timed-out"))
	fmt.Println(fr.Privilege("review"))

	en := label.ForLanguage("en-GB")
	fmt.Println(en.State(interaction.StateRejected))
	fmt.Println(en.Reason("tone"))
	// Output:
	// Refusé
	// Approuvé
	// Délai d'acceptation dépassé
	// Réviser les e-mails sortants
	// Rejected
	// Tone
}

// A host changes words on its own copy, adds labels for its own keys and
// falls back on a built-in catalogue for the rest.
func ExampleCatalogue_Set() {
	desk := label.French()
	desk.Set(label.States, string(interaction.StateParked), "Dans un panier")
	desk.Set(label.Events, "sla-warning", "Délai bientôt dépassé")
	fmt.Println(desk.State(interaction.StateParked))
	fmt.Println(desk.Event("sla-warning"))
	fmt.Println(label.French().State(interaction.StateParked))

	de := &label.Catalogue{Language: "de", Fallback: label.English()}
	de.Set(label.States, string(interaction.StateRejected), "Abgelehnt")
	fmt.Println(de.State(interaction.StateRejected), "/", de.State(interaction.StateSent))
	fmt.Println(de.State("on-hold"))
	// Output:
	// Dans un panier
	// Délai bientôt dépassé
	// En corbeille
	// Abgelehnt / Sent
	// On hold
}

// Keys lists what the built-in catalogues label, for a test beside the
// declarations that the package knows only by value.
func ExampleKeys() {
	fmt.Println(label.Keys(label.Decisions))
	// Output:
	// [approved pending rejected withdrawn]
}
