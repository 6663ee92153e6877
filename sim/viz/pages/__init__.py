"""The two pages and what they share. The controls of both pages are declared once
(`controls`); the trainer's live page is `live_page` (its pair `pair`, words `story`, numbers
`headline`, figures `figures`, panels `panels` over `reveal` and `bands`); the strategist's
what-if page is `whatif_page` over `whatif`. Their commands are `sim.cli.app` and
`sim.cli.whatif`."""
