// mnist-burn serve: start-up wiring only. Tells the polling and the routing what each view
// does, binds the window's events, then shows the view the URL names and starts polling.

import { connectViews, pollRuns, route } from './common.js';
import { redrawCharts } from './charts.js';
import { runsListed, setupRunsView } from './runs.js';
import { leaveRun, runViewSawList, showRun } from './run.js';
import { setupDrawing, updateDrawRuns } from './draw.js';

connectViews({
  listed() {
    runsListed();
    updateDrawRuns();
    runViewSawList();
  },
  showRun,
  leftRun: leaveRun,
});

let resizeTimer = null;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => redrawCharts(document), 80);
});
window.addEventListener('hashchange', route);

setupRunsView();
setupDrawing();
route();
pollRuns();
