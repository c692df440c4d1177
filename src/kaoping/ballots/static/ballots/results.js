// The tally chart: shares of each grade per target, stacked (ECharts, served locally).
document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("kp-tally-chart");
  const node = document.getElementById("kp-tally-data");
  if (!el || !node || !window.echarts) return;
  const data = JSON.parse(node.textContent);
  if (!data.targets.length) return;
  const colors = ["#b71c1c", "#e57373", "#bdbdbd", "#616161", "#424242", "#212121"];
  const chart = window.echarts.init(el);
  chart.setOption({
    grid: { left: 120, right: 20, top: 30, bottom: 20 },
    legend: { data: data.labels, top: 0 },
    tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: (v) => `${v}%` },
    xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    yAxis: { type: "category", data: data.targets, inverse: true },
    series: data.labels.map((label, k) => ({
      name: label, type: "bar", stack: "all", data: data.series[k],
      itemStyle: { color: colors[k % colors.length] },
    })),
  });
  window.addEventListener("resize", () => chart.resize());
});
