package interaction_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/emailflow/emailflow/interaction"
)

func ExampleInteraction_Fire() {
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	it, _ := interaction.New("int-1", interaction.KindInbound, "system", at)
	for _, e := range []interaction.Event{interaction.EventQueue, interaction.EventOffer, interaction.EventAccept} {
		_ = it.Fire(context.Background(), e, "agent-7", at, "")
	}
	fmt.Println(it.State)
	err := it.Fire(context.Background(), interaction.EventAccept, "agent-7", at, "")
	fmt.Println(errors.Is(err, interaction.ErrInvalidTransition))
	// Output:
	// handling
	// true
}
