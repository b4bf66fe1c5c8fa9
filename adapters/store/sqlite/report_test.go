package sqlite

import (
	"testing"

	"github.com/assistbot/assistbot/core"
	"github.com/assistbot/assistbot/core/coretest/storetest"
)

func TestReportContract(t *testing.T) {
	storetest.RunReportTests(t, func(t *testing.T) core.Store { return openTemp(t) })
}
