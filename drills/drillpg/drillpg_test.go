package drillpg_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/orthocds/orthocds/drills/drillpg"
	"github.com/orthocds/orthocds/drills/drilltest"
	"github.com/orthocds/orthocds/postgres/pgtest"
)

var testDBURL string

func TestMain(m *testing.M) {
	var err error
	testDBURL, err = pgtest.NewDatabase("orthocds_test_drillpg")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func TestConformance(t *testing.T) {
	if testDBURL == "" {
		t.Skip(pgtest.SkipMessage)
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, testDBURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for range 2 { // migrating twice changes nothing
		if err := drillpg.Migrate(ctx, pool); err != nil {
			t.Fatal(err)
		}
	}
	drilltest.Conformance(t, &drillpg.Store{Pool: pool})
}
