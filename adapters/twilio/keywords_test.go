package twilio

import "testing"

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		text, optOutType string
		optedOut         bool
		want             keyword
	}{
		{"STOP", "", false, optOut},
		{"  stop\n", "", false, optOut},
		{"Stop", "", true, optOut},
		{"STOPALL", "", false, optOut},
		{"unsubscribe", "", false, optOut},
		{"CANCEL", "", false, optOut},
		{"end", "", false, optOut},
		{"quit", "", false, optOut},
		{"REVOKE", "", false, optOut},
		{"OPTOUT", "", false, optOut},
		{"START", "", true, optIn},
		{"unstop", "", true, optIn},
		{"YES", "", true, optIn},
		{"YES", "", false, noKeyword},
		{"HELP", "", false, help},
		{"info", "", false, help},
		{"stop please", "", false, noKeyword},
		{"STOP!", "", false, noKeyword},
		{"please cancel my order", "", false, noKeyword},
		{"ARRET", "STOP", false, optOut},
		{"ANYTHING", "start", true, optIn},
		{"AYUDA", "HELP", false, help},
		{"hello", "", false, noKeyword},
		{"", "", false, noKeyword},
	} {
		if got := classify(tc.text, tc.optOutType, tc.optedOut); got != tc.want {
			t.Errorf("classify(%q, %q, %v) = %d, want %d", tc.text, tc.optOutType, tc.optedOut, got, tc.want)
		}
	}
}
