package loadgen

import "testing"

func TestParseGateway(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want gwMsg
	}{
		{name: "message", in: `{"type":"message","topic":"bench","offset":42,"epoch":"k3x9q1","data":{"seq":1,"ts":2}}`,
			want: gwMsg{kind: gwMessage, offset: 42, epoch: []byte("k3x9q1"), hasPos: true}},
		{name: "message without history", in: `{"type":"message","topic":"bench","data":{"seq":1}}`, want: gwMsg{kind: gwMessage}},
		{name: "offset only in the data", in: `{"type":"message","topic":"t","data":{"offset":7,"epoch":"x"}}`, want: gwMsg{kind: gwMessage}},
		{name: "topic named like a member", in: `{"type":"message","topic":"offset","offset":3,"epoch":"e","data":1}`,
			want: gwMsg{kind: gwMessage, offset: 3, epoch: []byte("e"), hasPos: true}},
		{name: "recovered", in: `{"type":"subscribed","topics":["t"],"recovered":true,"positions":{"t":{"offset":44,"epoch":"k3"}}}`,
			want: gwMsg{kind: gwSubscribed, offset: 44, epoch: []byte("k3"), hasPos: true, recovered: true}},
		{name: "not recovered", in: `{"type":"subscribed","topics":["t"],"recovered":false,"positions":{"t":{"offset":9,"epoch":"k4"}}}`,
			want: gwMsg{kind: gwSubscribed, offset: 9, epoch: []byte("k4"), hasPos: true}},
		{name: "subscribed without positions", in: `{"type":"subscribed","topics":["t"]}`, want: gwMsg{kind: gwSubscribed}},
		{name: "error", in: `{"type":"error","error":"offset"}`, want: gwMsg{}},
		{name: "not json", in: `hello`, want: gwMsg{}},
		{name: "empty epoch", in: `{"type":"message","offset":1,"epoch":"","data":1}`, want: gwMsg{kind: gwMessage, offset: 1}},
		{name: "epoch not a string", in: `{"type":"message","offset":1,"epoch":5,"data":1}`, want: gwMsg{kind: gwMessage, offset: 1}},
		{name: "offset not a number", in: `{"type":"message","offset":"1","epoch":"e","data":1}`, want: gwMsg{kind: gwMessage}},
		{name: "cut short", in: `{"type":"message","offset":1,"epoch":"e`, want: gwMsg{kind: gwMessage, offset: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := parseGateway([]byte(tc.in))
			if got.kind != tc.want.kind || got.offset != tc.want.offset || string(got.epoch) != string(tc.want.epoch) ||
				got.hasPos != tc.want.hasPos || got.recovered != tc.want.recovered {
				t.Errorf("parseGateway(%s) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}
