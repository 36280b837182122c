package llminferencereceiver

import (
	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-llminference/otelcol-llminference/components/internal/scrapecontract"
)

// target is one endpoint to scrape and the identity it is reported under.
type target struct {
	// key identifies the target; a target whose key is unchanged is not restarted.
	key string
	url string
	// invalid, when set, is why the target cannot be scraped as configured (a bad annotation):
	// each scrape fails with it, so that the pod shows as down instead of missing.
	invalid string
	scrapecontract.Target
}

// same reports whether two targets scrape the same URL under the same identity.
func (t *target) same(o *target) bool { return *t == *o }

// resource fills the resource of this target's scrapes.
func (t *target) resource(res pcommon.Resource, accessName string) {
	t.PutResource(res.Attributes(), t.url, accessName)
}
