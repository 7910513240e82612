set terminal pngcairo size 900,600 enhanced font 'Sans,10'
set output "token_accuracy_vs_length.png"
set title "copy: test token accuracy\npoints: mean over 5 seeds (dots: each seed); bars: 95% bootstrap over seeds and test sequences"
set xlabel "length"
set ylabel "token accuracy"
set grid
set key outside right
set logscale x 2
set yrange [0:1.02]
set xrange [16:25]
set xtics ("20" 20)
plot '-' using 1:2:3:4 with yerrorlines title "gpt-alibi" lw 2 lc 1, '-' using 1:2:3:4 with yerrorlines title "gpt-learned" lw 2 lc 2, '-' using 1:2:3:4 with yerrorlines title "gpt-none" lw 2 lc 3, '-' using 1:2:3:4 with yerrorlines title "gpt-rope" lw 2 lc 4, '-' using 1:2:3:4 with yerrorlines title "gpt-sinusoidal" lw 2 lc 5, '-' using 1:2 with points pt 7 ps 0.5 lc 1 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 2 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 3 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 4 notitle, '-' using 1:2 with points pt 7 ps 0.5 lc 5 notitle, '-' using 1:2 with lines title "chance" dashtype 2 lw 2
20 0.37916403165012696 0.34843850832572304 0.40663979184894644
e
20 0.07411167010052672 0.06206291375903508 0.08850391169653334
e
20 0.15178624312663364 0.13986413047429527 0.16449019691090289
e
20 0.14102368647867422 0.1271710755536409 0.15448850846821965
e
20 0.08221177053734371 0.06026335771328811 0.10542424325938193
e
20 0.32753623188405795
20 0.3781887336874549
20 0.37823331608898086
20 0.394686405392902
20 0.4171754711972392
e
20 0.06956521739130435
20 0.08098891730605286
20 0.061174340403517845
20 0.05954662613178243
20 0.09928324926997611
e
20 0.1696969696969697
20 0.14899337661485998
20 0.13857992757371962
20 0.13607824995043288
20 0.1655826917971861
e
20 0.14776021080368906
20 0.1385664633746475
20 0.11814536989136058
20 0.1406384244266737
20 0.16000796389700025
e
20 0.06495388669301713
20 0.09961308938291036
20 0.12202534919813761
20 0.07203753882757254
20 0.052428988585080966
e
20 0.1
e
