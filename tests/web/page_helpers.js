// Evaluated in the page by test_page_load.test_page_helpers: the modules' pure helpers, imported the
// way the page imports them, with the results handed back to Python.
async () => {
  const seatmap = await import('/static/js/seatmap.js');
  const api = await import('/static/js/api.js');
  const admin = await import('/static/js/admin.js');
  const blocks = {};
  for (const letters of ['A', 'AB', 'ABC', 'ABCD', 'ABCDE', 'ABCDEF', 'ABCDEFG', 'ABCDEFGH', 'ABCDEFGHJ', 'ABCDEFGHJK']) {
    blocks[letters] = seatmap.cabinBlocks(letters);
  }
  const positions = [...'ABCDEFGHJK'].map((l) => seatmap.seatPosition(l, 'ABCDEFGHJK'));
  return {
    blocks,
    positions,
    six: [...'ABCDEF'].map((l) => seatmap.seatPosition(l, 'ABCDEF')),
    name: seatmap.seatName('12A', 'window', 'available'),
    retry: [api.retryAfterSeconds('5'), api.retryAfterSeconds(null), api.retryAfterSeconds('0'),
            api.retryAfterSeconds('3600'), api.retryAfterSeconds('soon'),
            api.retryAfterSeconds(new Date(Date.now() + 10000).toUTCString())],
    offsets: [api.clockOffset(NaN, 1000), api.clockOffset(100000, 99500), api.clockOffset(100000, 101500),
              api.clockOffset(700000, 100000)],
    messages: [
      api.plainMessage(409, 'seats not available: 1A, 1B'),
      api.plainMessage(422, [{loc: ['body', 'password'], msg: 'String should have at least 8 characters'}]),
      api.plainMessage(422, [{loc: ['body'], msg: 'Value error, destination must differ from origin'}]),
      api.plainMessage(422, [{loc: ['query', 'origin'], msg: "String should match pattern '^[A-Z]{3}$'"}]),
      api.plainMessage(422, [{loc: ['body', 'passengers', 0, 'name'], msg: 'Field required'}]),
      api.plainMessage(404, 'Not Found'),
      api.plainMessage(405, 'Method Not Allowed'),
      api.plainMessage(500, null),
      api.plainMessage(403, undefined),
    ],
    seats: [api.seatsInDetail('seats not available: 1A, 12C'), api.seatsInDetail('flight BK100 has already departed')],
    iso: admin.utcIso('2031-05-01T09:00'),
  };
}
