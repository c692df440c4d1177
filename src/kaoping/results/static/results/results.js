// Result pages: the grade distribution (ranking) and a target's dimensions against the campaign
// average — a radar, or bars when there are fewer than three dimensions (ECharts, served
// locally); "expand all" on the explanation tree.
(() => {
  const colors = ["#b71c1c", "#e57373", "#90a4ae", "#455a64", "#9e9e9e", "#212121"];

  const read = (id) => {
    const node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  };

  const draw = (el, option) => {
    const chart = window.echarts.init(el);
    chart.setOption(option);
    window.addEventListener("resize", () => chart.resize());
  };

  const gradeChart = () => {
    const el = document.getElementById("kp-grade-chart");
    const data = read("kp-grade-data");
    if (!el || !data || !window.echarts || !data.labels.length) return;
    draw(el, {
      grid: { left: 40, right: 10, top: 20, bottom: 30 },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "category", data: data.labels },
      yAxis: { type: "value", minInterval: 1 },
      series: [{
        type: "bar", name: "考核对象数", label: { show: true, position: "top" },
        data: data.counts.map((v, k) => ({ value: v, itemStyle: { color: colors[k % colors.length] } })),
      }],
    });
  };

  const dimensionChart = () => {
    const el = document.getElementById("kp-radar");
    const data = read("kp-radar-data");
    if (!el || !data || !window.echarts || !data.indicators.length) return;
    const unit = data.percent ? "%" : " 分";
    const format = (v) => (v == null ? "—" : `${v}${unit}`);
    const legend = { data: [data.target_name, "全体平均"], bottom: 0 };
    if (data.indicators.length < 3) {
      draw(el, {
        legend,
        tooltip: { trigger: "axis", valueFormatter: format },
        grid: { left: 40, right: 10, top: 20, bottom: 50 },
        xAxis: { type: "category", data: data.indicators.map((i) => i.name) },
        yAxis: { type: "value", max: data.indicators[0].max },
        series: [
          { type: "bar", name: data.target_name, data: data.target, itemStyle: { color: "#b71c1c" } },
          { type: "bar", name: "全体平均", data: data.mean, itemStyle: { color: "#455a64" } },
        ],
      });
      return;
    }
    draw(el, {
      legend,
      tooltip: { trigger: "item", valueFormatter: format },
      radar: { indicator: data.indicators, radius: "62%", splitNumber: 4 },
      series: [{
        type: "radar",
        data: [
          { name: data.target_name, value: data.target, areaStyle: { opacity: 0.25 },
            itemStyle: { color: "#b71c1c" } },
          { name: "全体平均", value: data.mean, lineStyle: { type: "dashed" },
            itemStyle: { color: "#455a64" } },
        ],
      }],
    });
  };

  const expandAll = () => {
    document.querySelectorAll("[data-kp-expand]").forEach((button) => {
      button.addEventListener("click", () => {
        const open = button.dataset.open !== "1";
        document.querySelectorAll(".kp-explanation details").forEach((d) => { d.open = open; });
        button.dataset.open = open ? "1" : "0";
        button.textContent = open ? "全部收起" : "全部展开";
      });
    });
  };

  document.addEventListener("DOMContentLoaded", () => {
    gradeChart();
    dimensionChart();
    expandAll();
  });
})();
